"""The fan-out rule: each member's client, applying only what it receives, stays consistent.

An omniscient run applies the set-up and a random sequence of events; each accepted event is then
delivered, in the form :func:`audience` chooses, to each recipient's own view of the talks. Every
view must accept everything it receives (so clients never drop a legitimate event), and must end
up holding exactly the messages its member may read — the mediator's gist without its source.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine.audience import audience, backlog
from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import RuleViolation
from tests.engine.talks_builder import MEMBERS, at, build, setup_events
from tests.engine.test_properties import Run, draw_event


def deliver(
    views: dict[str, engine.Talks],
    history: list[ev.Event],
    before: engine.Talks,
    after: engine.Talks,
    event: ev.Event,
) -> dict[str, ev.Event]:
    """Apply ``event`` to each recipient's view; a refusal there is a failure of the rule.

    A member seen for the first time (just added) first receives its backlog.
    """
    sent = audience(before, after, event)
    for member, form in sent.items():
        if member not in views:
            views[member] = engine.Talks(id="t")
            for earlier in backlog(history, after, member):
                views[member] = engine.apply(views[member], earlier)
        views[member] = engine.apply(views[member], form)
    history.append(event)
    return sent


@given(st.data(), st.integers(0, 70))
def test_every_view_accepts_what_it_receives(data: st.DataObject, steps: int) -> None:
    """Views accept every delivered event and end with exactly their readable messages."""
    omniscient = engine.Talks(id="t")
    views: dict[str, engine.Talks] = {}
    history: list[ev.Event] = []
    for event in setup_events():
        after = engine.apply(omniscient, event)
        deliver(views, history, omniscient, after, event)
        omniscient = after
    run = Run(talks=omniscient)
    for index in range(steps):
        event = draw_event(data, run, index)
        try:
            after = engine.apply(run.talks, event)
        except RuleViolation:
            continue
        sent = deliver(views, history, run.talks, after, event)
        for member, form in sent.items():
            if isinstance(form, ev.Send | ev.Propose | ev.Relay | ev.Carry):
                message = after.messages[form.message]
                assert member in message.readers or after.members[member].party == "oman"
            if isinstance(form, ev.Carry) and form.mode is RelayMode.GIST:
                assert form.source is None and form.original_author is None
        run.talks = after
    for member in MEMBERS:
        readable = {m.id: m for m in engine.messages_for(run.talks, member)}
        view = views[member]
        seen = {m.id: m for m in engine.messages_for(view, member)}
        assert seen == readable
        for message in view.messages.values():
            if message.label is Label.MEDIATOR_ONLY:
                assert member in message.readers or member.startswith("om")


def test_gist_reaches_the_other_side_without_its_source() -> None:
    """The US caucus receives a Carry naming no source; the mediator keeps the full relay."""
    before = build(
        [
            ev.Send(
                at=at(1),
                actor="ir1",
                message="m",
                room="iran-caucus",
                text="t",
                label=Label.CARRY_GIST,
            )
        ]
    )
    relay = ev.Relay(
        at=at(2),
        actor="om1",
        message="g",
        source="m",
        room="us-caucus",
        mode=RelayMode.GIST,
        text="Iran asks for a ceasefire.",
    )
    sent = audience(before, engine.apply(before, relay), relay)
    assert sent["om1"] == relay
    assert set(sent) == {"om1", "us1", "us2"}
    carried = sent["us1"]
    assert isinstance(carried, ev.Carry)
    assert (carried.source, carried.original_author, carried.text) == (
        None,
        None,
        "Iran asks for a ceasefire.",
    )


def test_delegation_room_structure_stays_with_its_party() -> None:
    """A delegation room's joins go to its party only; a caucus's to it and the mediator."""
    talks = build()
    join = ev.Join(at=at(1), actor="us3", room="us-del", member="us3")
    assert set(audience(talks, engine.apply(talks, join), join)) == {"us1", "us2", "us3"}
    join = ev.Join(at=at(1), actor="us3", room="us-caucus", member="us3")
    assert set(audience(talks, engine.apply(talks, join), join)) == {
        "us1",
        "us2",
        "us3",
        "om1",
        "om2",
    }
