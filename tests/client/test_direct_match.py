"""A direct match through PSI: the plain match, nothing sealed on the wire or in either output."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest
from hypothesis import given, settings

from backchannel.client.direct_match import Side, run_locally
from backchannel.engine import escrow as ex
from backchannel.errors import DisclosureDiffers, EscrowInvalid, PsiWrongContext
from tests.engine.test_deal import escrows
from tests.test_scenario import ROOT

DIRECT = ROOT / "scenarios" / "direct-channel-2026.escrow.json"


def sealed_text(escrow: ex.Escrow, matched: set[str]) -> list[str]:
    """The ids and descriptions of the commitments that did not match."""
    return [
        text
        for c in escrow.commitments
        if c.id not in matched
        for text in (c.id, c.description)
        if text
    ]


@settings(max_examples=25, deadline=None)
@given(escrows())
def test_both_honest_sides_find_the_plain_match(escrow: ex.Escrow) -> None:
    """Each side ends with the plain match restricted to it and the other's disclosed part;
    no unmatched commitment's id or description is in any message or in either output."""
    first, second, wire = run_locally(escrow, talks="t1", session="s1", size=64)
    plain = {c.id for c in ex.match(escrow)}
    for learned in (first, second):
        ids = {c.id for c in learned.outcome.commitments} | {c.id for c in learned.disclosed}
        assert ids == plain
        shown = json.dumps(asdict(learned), default=str)
        for text in sealed_text(escrow, plain):
            assert json.dumps(text) not in shown
    for raw in wire:
        assert b"CANARY" not in raw and b"act" not in raw


def test_the_direct_channel_case_matches_like_the_plain_matcher() -> None:
    """The 2026 escrow: peace for a guarantee and oil exports, settled at 1.25 mbpd, in stages."""
    escrow = ex.loads(DIRECT.read_text(encoding="utf-8"))
    us, iran, wire = run_locally(escrow, talks="host-talks-id", session="s-1", size=1024)
    plain = ex.match(escrow)
    assert {c.id for c in us.outcome.commitments} == {"us-guarantee-if-peace"}
    assert {c.id for c in us.disclosed} == {c.id for c in plain if c.party == "iran"}
    assert us.plan == iran.plan and any(s.simultaneous for s in us.plan)
    (settled,) = us.outcome.settlements
    assert (settled.value, settled.low, settled.high) == pytest.approx((1.25, 1.0, 1.5))
    assert us.other_size == iran.other_size == 1024
    for raw in wire:
        assert b"SEALED" not in raw and b"detainees" not in raw and b"formal_talks" not in raw
    for learned, other in ((us, "IRAN"), (iran, "US")):
        assert f"SEALED-{other}-CANARY" not in json.dumps(asdict(learned), default=str)


def test_messages_for_another_session_are_refused() -> None:
    """A side refuses a message of another session; an escrow with three parties is refused."""
    escrow = ex.loads(DIRECT.read_text(encoding="utf-8"))
    us = Side.open(escrow, "us", "iran", talks="t", session="s1", size=1024, initiator=True)
    iran = Side.open(escrow, "iran", "us", talks="t", session="s2", size=1024, initiator=False)
    with pytest.raises(PsiWrongContext):
        iran.receive(us.start())
    three = replace(escrow, parties=("us", "iran", "oman"))
    with pytest.raises(EscrowInvalid):
        run_locally(three, talks="t", session="s", size=8)


def test_a_forged_disclosure_is_refused() -> None:
    """A side that discloses other commitments than the matched ones gets no plan."""
    escrow = ex.loads(DIRECT.read_text(encoding="utf-8"))
    us = Side.open(escrow, "us", "iran", talks="t", session="s", size=1024, initiator=True)
    iran = Side.open(escrow, "iran", "us", talks="t", session="s", size=1024, initiator=False)
    message: bytes | None = us.start()
    sides = (iran, us)
    turn = 0
    while message is not None:
        message = sides[turn % 2].receive(message)
        turn += 1
    honest = iran.disclosure()
    weaker = tuple(replace(c, requires=ex.Need("us.formal_talks")) for c in honest)
    with pytest.raises(DisclosureDiffers):
        us.learn(weaker)
    with pytest.raises(DisclosureDiffers):
        us.learn(honest[:1])
    assert us.learn(honest).plan
