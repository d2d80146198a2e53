"""Consent stages over random sequences of acceptances, signatures and confirmations (Hypothesis).

A model keeps which party accepted which copy ad referendum and which it confirmed; the engine
must agree with it on every act (accepted, or refused with the model's code), every party's stage
on every offer must be the model's, and each reader's own view, fed only what the fan-out rule
sends it, must accept every act it receives.
"""

from __future__ import annotations

from hypothesis import event as event_note
from hypothesis import given
from hypothesis import strategies as st

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine.rules import STAGE_ORDER, Label, RelayMode, Stage
from backchannel.errors import RuleViolation
from tests.engine.talks_builder import MEMBERS, at, setup_events
from tests.engine.test_audience import deliver

OFFERS = ("offer", "counter")  # Iran's, the US's
COPIES = {"offer": "offer", "ca": "offer", "cb": "offer", "counter": "counter"}  # → its original


def opening() -> list[ev.Event]:
    """Iran's offer, carried verbatim into the US caucus (ca) and the plenary (cb); the US's
    counter-offer in the plenary. us3 (sign) and ir2 (accept) read what they may accept."""

    def propose(actor: str, message: str, room: str) -> ev.Propose:
        return ev.Propose(
            at=at(1),
            actor=actor,
            message=message,
            room=room,
            text=message,
            label=Label.CARRY_VERBATIM,
        )

    def relay(message: str, room: str) -> ev.Relay:
        return ev.Relay(
            at=at(2),
            actor="om1",
            message=message,
            source="offer",
            room=room,
            mode=RelayMode.VERBATIM,
        )

    return [
        *(
            ev.Join(at=at(1), actor=m, room=r, member=m)
            for m, r in (("us3", "us-caucus"), ("us3", "plenary"), ("ir2", "plenary"))
        ),
        propose("ir1", "offer", "iran-caucus"),
        relay("ca", "us-caucus"),
        relay("cb", "plenary"),
        propose("us1", "counter", "plenary"),
    ]


def draw_act(data: st.DataObject, accepted: set[tuple[str, str]]) -> tuple[str, str, str]:
    """Mostly a member accepting or signing, or a root confirming what its party accepted."""
    copy = data.draw(st.sampled_from(sorted(COPIES)))
    kind = data.draw(st.sampled_from(["accept", "sign", "confirm", "confirm"]))
    if kind != "confirm":
        return kind, data.draw(st.sampled_from(["us3", "ir2"])), copy
    if accepted and data.draw(st.integers(0, 3)) > 0:
        party, copy = data.draw(st.sampled_from(sorted(accepted)))
        return kind, party, copy
    return kind, data.draw(st.sampled_from(["us", "iran", "oman", "us3"])), copy


@given(st.data(), st.integers(0, 25))
def test_the_engine_agrees_with_the_consent_model(data: st.DataObject, steps: int) -> None:
    """Each act is accepted or refused exactly as the model says; stages follow the model; every
    reader's own view accepts what it is sent."""
    talks = engine.Talks(id="t")
    views: dict[str, engine.Talks] = {}
    history: list[ev.Event] = []
    for event in [*setup_events(), *opening()]:
        after = engine.apply(talks, event)
        deliver(views, history, talks, after, event)
        talks = after
    accepted: set[tuple[str, str]] = set()  # (party, copy) accepted ad referendum
    confirmed: set[tuple[str, str]] = set()
    reached: dict[tuple[str, str], Stage] = {}  # (party, offer) → stage
    for index in range(steps):
        kind, actor, copy = draw_act(data, accepted)
        cls = {"accept": ev.Accept, "sign": ev.Sign, "confirm": ev.Confirm}[kind]
        event = cls(at=at(10 + index), actor=actor, proposal=copy)
        try:
            after = engine.apply(talks, event)
        except RuleViolation as exc:
            code = exc.code
        else:
            code = None
        event_note(f"{kind}: {code or 'accepted'}")
        party = actor if actor in talks.parties else MEMBERS[actor][0]
        if kind == "confirm":
            expected = (
                "mandate.insufficient"
                if actor in MEMBERS
                else "confirm.not_accepted"
                if (party, copy) not in accepted
                else "confirm.duplicate"
                if (party, copy) in confirmed
                else None
            )
            assert code == expected
        if code is not None:
            continue
        deliver(views, history, talks, after, event)
        talks = after
        stage = {"accept": Stage.AGREED_AD_REF, "sign": Stage.SIGNED}.get(kind, Stage.CONFIRMED)
        if kind == "accept":
            accepted.add((party, copy))
        if kind == "confirm":
            confirmed.add((party, copy))
        key = (party, COPIES[copy])
        reached[key] = max(reached.get(key, stage), stage, key=STAGE_ORDER.index)
    for offer in OFFERS:
        for party in talks.parties:
            assert engine.stage(talks, offer, party) == reached.get((party, offer))
    # Every reader of a confirmed copy recorded the same confirmation.
    for done in talks.confirmations:
        for reader in talks.messages[done.copy].readers:
            assert done in views[reader].confirmations
