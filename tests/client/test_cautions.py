"""Cautions: acts the rules allow whose effect the person acting would not expect."""

from __future__ import annotations

from backchannel import engine
from backchannel.client import cautions
from backchannel.engine import events as ev
from backchannel.engine.rules import RoomKind
from tests.engine.talks_builder import at, build


def test_a_caucus_without_its_mediator_is_cautioned_and_one_with_it_is_not() -> None:
    talks = build()
    assert cautions.before_send(talks, "iran-caucus") == []  # om1 is in it
    talks = engine.apply(
        talks,
        ev.CreateRoom(at=at(1), actor="om1", room="iran-2", kind=RoomKind.CAUCUS, party="iran"),
    )
    talks = engine.apply(talks, ev.Join(at=at(2), actor="ir1", room="iran-2", member="ir1"))
    [caution] = cautions.before_send(talks, "iran-2")
    assert caution.code == "send.no_mediator_in_room"
    assert "never read" in caution.message
    talks = engine.apply(talks, ev.Join(at=at(3), actor="om1", room="iran-2", member="om1"))
    assert cautions.before_send(talks, "iran-2") == []
    assert cautions.mediator_in_room(talks, "iran-2")


def test_delegation_and_plenary_rooms_are_not_cautioned_for_a_missing_mediator() -> None:
    talks = build()
    assert cautions.before_send(talks, "us-del") == []
    assert cautions.before_send(talks, "plenary") == []
    assert not cautions.mediator_in_room(talks, "us-del")
    assert cautions.before_send(talks, "no-such-room") == []  # the engine refuses that one


def test_a_relay_into_a_room_its_party_has_left_is_cautioned() -> None:
    talks = build()
    assert cautions.before_relay(talks, "us-caucus") == []
    for member in ("us1", "us2"):
        talks = engine.apply(
            talks, ev.Leave(at=at(1), actor=member, room="us-caucus", member=member)
        )
    [caution] = cautions.before_relay(talks, "us-caucus")
    assert caution.code == "relay.no_party_member"
    assert caution.to_json() == {"code": caution.code, "message": caution.message}
    assert cautions.before_relay(talks, "plenary") == []  # no owning party
