"""The direct match's signed act: the words both parties sign, checked by every device."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from backchannel import engine
from backchannel.engine import codec, deposit, direct, sequencing
from backchannel.engine import escrow as ex
from backchannel.engine import events as ev
from backchannel.engine.audience import audience, party_receives
from backchannel.engine.rules import Level
from backchannel.errors import RuleViolation
from tests.engine.talks_builder import build
from tests.test_scenario import ROOT

DIRECT = ROOT / "scenarios" / "direct-channel-2026.escrow.json"
AT = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
MATCHED = ["us-guarantee-if-peace", "iran-peace-if-guaranteed", "iran-authority-if-guaranteed"]
SETTLED = {"action": "us.allow_oil_exports", "term": "oil_exports_mbpd"}
SESSION = "0" * 32


def talks() -> engine.Talks:
    """Talks without a mediator: the US, Iran and the UK; a propose and an observe member."""
    events: list[ev.Event] = []
    members = {"us1": ("us", Level.PROPOSE), "ir1": ("iran", Level.PROPOSE)}
    members |= {"ir2": ("iran", Level.OBSERVE), "uk1": ("uk", Level.PROPOSE)}
    for party in ("us", "iran", "uk"):
        events.append(ev.AddParty(at=AT, actor=party, party=party))
    for member, (party, level) in members.items():
        events.append(
            ev.AddMember(
                at=AT,
                actor=party,
                member=member,
                party=party,
                first_device=f"{member}.d1",
                fingerprint=f"fp-{member}",
            )
        )
        events.append(ev.Grant(at=AT, actor=party, grant=f"{member}.g", member=member, level=level))
    view = engine.Talks(id="t")
    for event in events:
        view = engine.apply(view, event)
    return view


def the_words(change: Callable[[dict[str, Any]], None] | None = None) -> str:
    """The words of the 2026 match (optionally changed, then written canonically)."""
    document = json.loads(DIRECT.read_text(encoding="utf-8"))
    texts = [deposit.commitment_text(document, c) or "" for c in MATCHED]
    joint = ex.Escrow(
        ("iran", "us"),
        None,
        ex.parse(document).actions,
        tuple(c for c in ex.parse(document).commitments if c.id in MATCHED),
    )
    stages = sequencing.plan(joint, joint.commitments)
    settled = [{**SETTLED, "value": 1.25, "low": 1.0, "high": 1.5}]
    words = direct.words(SESSION, ("us", "iran"), texts, settled, stages)
    if change is None:
        return words
    data = json.loads(words)
    change(data)
    return direct.canonical(data)


def signs(actor: str, words: str, other: str = "", session: str = SESSION) -> ev.DirectMatch:
    """``actor`` signs ``words`` for its party (with the other of the US and Iran)."""
    party = "us" if actor.startswith("us") else "iran"
    partner = other or ("iran" if party == "us" else "us")
    return ev.DirectMatch(
        at=AT, actor=actor, session=session, other=partner, outcome=words, device=f"{actor}.d1"
    )


def refusal(view: engine.Talks, event: ev.Event) -> str:
    with pytest.raises(RuleViolation) as caught:
        engine.apply(view, event)
    return caught.value.code


def test_both_parties_sign_the_same_words_and_only_they_receive_them() -> None:
    """One signature is a claim; the other party's on the same words makes it agreed. The act
    reaches the two parties' members only, never the third party's."""
    words = the_words()
    before = talks()
    one = engine.apply(before, signs("us1", words))
    assert not one.direct[SESSION].agreed and one.direct[SESSION].signed == ("us",)
    event = signs("ir1", words)
    two = engine.apply(one, event)
    assert two.direct[SESSION].agreed and two.direct[SESSION].parties == ("iran", "us")
    assert set(audience(one, two, event)) == {"us1", "ir1", "ir2"}
    assert not party_receives(two, "uk", event) and party_receives(two, "iran", event)
    assert codec.decode(codec.encode(event)) == event


def test_a_party_signs_once_and_the_second_must_sign_the_same_words() -> None:
    """The same party again: id.duplicate; the other party with other (valid) words:
    direct.outcome_differs; neither changes the state."""
    one = engine.apply(talks(), signs("us1", the_words()))
    assert refusal(one, signs("us1", the_words())) == "id.duplicate"

    def cheaper(data: dict[str, Any]) -> None:
        data["settled"] = [{**SETTLED, "value": 1.1, "low": 1.0, "high": 1.2}]

    assert refusal(one, signs("ir1", the_words(cheaper))) == "direct.outcome_differs"
    assert one.direct[SESSION].signed == ("us",)


def test_direct_matching_needs_two_parties_without_a_mediator_and_a_propose_mandate() -> None:
    """With a mediator, naming no other party or one's own: direct.unavailable; an observer
    signs nothing: mandate.insufficient."""
    words = the_words()
    mediated = build()
    assert refusal(mediated, signs("us1", words)) == "direct.unavailable"
    assert refusal(talks(), signs("us1", words, other="us")) == "direct.unavailable"
    assert refusal(talks(), signs("us1", words, other="oman")) == "direct.unavailable"
    assert refusal(talks(), signs("ir2", words)) == "mandate.insufficient"


def _drop_one(data: dict[str, Any]) -> None:
    data["commitments"] = data["commitments"][1:]


def _other_plan(data: dict[str, Any]) -> None:
    data["plan"] = list(reversed(data["plan"]))


def _outside(data: dict[str, Any]) -> None:
    data["settled"] = [{**SETTLED, "value": 1.75, "low": 1.5, "high": 2.0}]


def _off_midpoint(data: dict[str, Any]) -> None:
    data["settled"] = [{**SETTLED, "value": 1.4, "low": 1.0, "high": 1.5}]


def _other_session(data: dict[str, Any]) -> None:
    data["session"] = "1" * 32


def _third_party(data: dict[str, Any]) -> None:
    data["parties"] = ["iran", "uk"]


def _extra(data: dict[str, Any]) -> None:
    data["note"] = "and reparations"


@pytest.mark.parametrize(
    "change",
    [_drop_one, _other_plan, _outside, _off_midpoint, _other_session, _third_party, _extra],
)
def test_words_the_commitments_do_not_support_are_refused(
    change: Callable[[dict[str, Any]], None],
) -> None:
    """A claimed match that was not computed — commitments that do not support one another,
    another plan, a term settled outside a stated range or off its overlap's midpoint, another
    session or parties, another field — is refused at its place by every device."""
    assert refusal(talks(), signs("us1", the_words(change))) == "direct.outcome_differs"


@pytest.mark.parametrize("text", ["", "[]", "{", '{"session": 1}', the_words().replace(",", ", ")])
def test_words_that_are_not_canonical_json_of_the_fields_are_refused(text: str) -> None:
    """Not JSON, not an object of exactly the fields, or not the canonical text."""
    assert refusal(talks(), signs("us1", text)) == "direct.outcome_differs"
