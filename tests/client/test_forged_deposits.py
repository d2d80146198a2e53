"""Devices that bypass their own engine still cannot act on the escrow out of turn: every
receiving device refuses a withdrawal by another party and a match announced by a party."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backchannel.client import acts
from backchannel.client.participant import Participant
from backchannel.client.simulation import StackRun, run, temporary_host
from backchannel.engine import events as ev
from backchannel.errors import RuleViolation
from backchannel.scenario import load
from tests.client.malicious import forge
from tests.test_scenario import MUSCAT

IRAN = "iran-halving-if-ceasefire"


def by_member(stacked: StackRun, member: str) -> tuple[str, Participant]:
    return next((h, p) for h, p in stacked.participants.items() if p.me == member)


def test_forged_escrow_acts_are_refused_by_every_device(tmp_path: Path) -> None:
    """A US device withdrawing Iran's deposit (escrow.not_own) and an Iranian device announcing
    a match (escrow.not_mediator), past their own engines: every device that receives either
    refuses it at its place, and Iran's deposit stays open everywhere."""
    with temporary_host(f"sqlite:///{tmp_path / 'host.db'}") as url:
        stacked = run(load(MUSCAT), url)
        _, us = by_member(stacked, "mcgurk")
        iran_host, iran = by_member(stacked, "bagheri")
        at = us.view.clock or datetime.now(UTC)
        withdraw = ev.Withdraw(at=at, actor="mcgurk", device=us.engine_device, deposit=IRAN)
        forge(stacked.drivers[by_member(stacked, "mcgurk")[0]], us, withdraw)
        announce = ev.AnnounceMatch(
            at=at,
            actor="bagheri",
            device=iran.engine_device,
            match="forged-match",
            deposits=json.dumps([IRAN]),
            settled="[]",
            plan="[]",
            revealed=json.dumps([iran.view.deposits[IRAN].text]),
        )
        forge(stacked.drivers[iran_host], iran, announce)
        for host_id, participant in stacked.participants.items():
            before = len(participant.dropped)
            stacked.sync(host_id)
            codes = [d.code for d in participant.dropped[before:]]
            if participant.me not in {"mcgurk", "bagheri"}:
                assert sorted(codes) == ["escrow.not_mediator", "escrow.not_own"], participant.me
            assert participant.view.deposits[IRAN].status.value == "open"
            assert "forged-match" not in participant.view.matches
        stacked.close()


def test_a_notice_is_never_an_act_of_its_own() -> None:
    """A device will not send a deposit's notice as an act: it only stands in for a deposit."""
    notice = ev.DepositNotice(at=datetime.now(UTC), actor="bagheri", deposit=IRAN)
    with pytest.raises(RuleViolation, match="notice"):
        acts.sign(None, "talks", None, notice)  # type: ignore[arg-type]
