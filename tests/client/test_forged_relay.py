"""A mediator device that bypasses its own engine still cannot carry a mediator-only message:
every receiving device refuses the hand-crafted relay."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

from backchannel.client.participant import Participant
from backchannel.client.simulation import StackRun, run, temporary_host
from backchannel.crypto import Context, Recipient, canonical_json
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, RelayMode
from backchannel.scenario import load
from tests.test_scenario import MUSCAT


def send_raw(sender: Participant, event: ev.Event, devices: list[str], **extra: Any) -> None:
    """Encrypt ``event`` (and ``extra`` item fields) to ``devices`` as the sender's client would,
    without any engine check."""
    context = Context(sender.talks_host_id, "talks", sender.host.device.device_id, "event")
    payload = canonical_json({"items": [{"event": codec.encode(event), **extra}]})
    ciphertexts: dict[str, bytes] = {}
    for device in devices:
        peer = sender.directory.peers[device]
        key = (
            None if sender.sessions.has_session(device) else sender.host.claim_one_time_key(device)
        )
        ciphertexts.update(
            sender.sessions.seal(payload, context, [Recipient(device, peer.curve25519, key)])
        )
    sender.host.send(sender.talks_host_id, secrets.token_hex(16), ciphertexts)


def by_member(stacked: StackRun, member: str) -> tuple[str, Participant]:
    return next((h, p) for h, p in stacked.participants.items() if p.me == member)


def test_hand_crafted_relays_of_a_mediator_only_message_are_dropped(tmp_path: Path) -> None:
    """The US devices drop a forged carry of Iran's aside; Iran's device drops the forged relay."""
    with temporary_host(f"sqlite:///{tmp_path / 'host.db'}") as url:
        stacked = run(load(MUSCAT), url)
        _, oman = by_member(stacked, "oman-envoy")
        aside = oman.view.messages["iran-aside"]
        assert aside.label is Label.MEDIATOR_ONLY
        at = oman.view.last_at
        assert at is not None
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
        send_raw(oman, forged_carry, us_devices)
        send_raw(oman, forged_relay, [iran_host])
        # The US device refuses the carry on its label; Iran's device refuses the relay before
        # that: it does not even know the US room exists.
        expected = {h: "relay.label_forbids" for h in us_devices} | {iran_host: "entity.unknown"}
        for host_id, code in expected.items():
            participant = stacked.participants[host_id]
            before = len(participant.dropped)
            participant.sync()
            assert [d.code for d in participant.dropped[before:]] == [code]
            assert "forged-1" not in participant.view.messages
            assert "forged-2" not in participant.view.messages
        # A device refuses, too, an event claiming to come from someone else's device.
        impostor = replace(forged_carry, actor="mcgurk", message="forged-3", label=Label.CARRY_GIST)
        mcgurk_host, mcgurk = by_member(stacked, "mcgurk")
        send_raw(oman, impostor, [mcgurk_host])
        before = len(mcgurk.dropped)
        mcgurk.sync()
        assert [d.code for d in mcgurk.dropped[before:]] == ["rule.violation"]
        stacked.close()
