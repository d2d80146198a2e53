"""A mediator device that bypasses its own engine still cannot carry a mediator-only message:
every receiving device refuses the hand-crafted relay."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from backchannel.client.participant import Participant
from backchannel.client.simulation import StackRun, run, temporary_host
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, RelayMode
from backchannel.scenario import load
from tests.client.malicious import forge
from tests.test_scenario import MUSCAT


def by_member(stacked: StackRun, member: str) -> tuple[str, Participant]:
    return next((h, p) for h, p in stacked.participants.items() if p.me == member)


def now(participant: Participant) -> datetime:
    """The record's clock where the replay left it: what a forged act claims, to pass the clock."""
    return participant.view.clock or datetime.now(UTC)


def test_hand_crafted_relays_of_a_mediator_only_message_are_dropped(tmp_path: Path) -> None:
    """The US devices drop a forged carry of Iran's aside; Iran's device drops the forged relay."""
    with temporary_host(f"sqlite:///{tmp_path / 'host.db'}") as url:
        stacked = run(load(MUSCAT), url)
        oman_host, oman = by_member(stacked, "oman-envoy")
        aside = oman.view.messages["iran-aside"]
        assert aside.label is Label.MEDIATOR_ONLY
        at = now(oman)
        forged_carry = ev.Carry(
            at=at,
            actor="oman-envoy",
            device=oman.engine_device,
            message="forged-1",
            room="us-caucus",
            mode=RelayMode.GIST,
            label=Label.MEDIATOR_ONLY,
            text="Iran says it does not control the groups.",
        )
        forged_relay = ev.Relay(
            at=at,
            actor="oman-envoy",
            device=oman.engine_device,
            message="forged-2",
            source="iran-aside",
            room="us-caucus",
            mode=RelayMode.GIST,
            text="Iran says it does not control the groups.",
        )
        us_devices = [h for h, p in stacked.participants.items() if p.me in {"mcgurk"}]
        iran_host, _ = by_member(stacked, "bagheri")
        driver = stacked.drivers[oman_host]
        forge(driver, oman, forged_carry, to=us_devices)
        forge(driver, oman, forged_relay, to=[iran_host])
        # The US device refuses the carry on its label; Iran's device refuses the relay before
        # that: it does not even know the US room exists.
        expected = {h: "relay.label_forbids" for h in us_devices} | {iran_host: "entity.unknown"}
        for host_id, code in expected.items():
            participant = stacked.participants[host_id]
            before = len(participant.dropped)
            stacked.sync(host_id)
            assert [d.code for d in participant.dropped[before:]] == [code]
            assert "forged-1" not in participant.view.messages
            assert "forged-2" not in participant.view.messages
        # A device refuses, too, an event claiming to come from someone else's device.
        impostor = replace(forged_carry, actor="mcgurk", message="forged-3", label=Label.CARRY_GIST)
        mcgurk_host, mcgurk = by_member(stacked, "mcgurk")
        forge(driver, oman, impostor, to=[mcgurk_host])
        before = len(mcgurk.dropped)
        stacked.sync(mcgurk_host)
        assert [d.code for d in mcgurk.dropped[before:]] == ["rule.violation"]
        stacked.close()
