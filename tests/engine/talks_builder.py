"""An in-memory talks with a mediator and two parties, for driving the engine in tests.

Parties: ``us`` and ``iran``, and ``oman`` as mediator. Members and their mandates (from the root
unless noted): ``us1`` propose, ``us2`` observe (granted by us1), ``us3`` sign, ``ir1`` propose,
``ir2`` accept, ``om1`` propose, ``om2`` speak. Rooms: ``us-caucus`` (us1, us2, om1),
``iran-caucus`` (ir1, ir2, om1), ``us-del`` (us1, us2), ``plenary`` (us1, ir1, om1).
Every member has one device, ``<member>.d1``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, Level, Role, RoomKind

START = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)

MEMBERS: dict[str, tuple[str, Level, str | None]] = {
    "us1": ("us", Level.PROPOSE, None),
    "us2": ("us", Level.OBSERVE, "us1"),
    "us3": ("us", Level.SIGN, None),
    "ir1": ("iran", Level.PROPOSE, None),
    "ir2": ("iran", Level.ACCEPT, None),
    "om1": ("oman", Level.PROPOSE, None),
    "om2": ("oman", Level.SPEAK, None),
}
ROOMS: dict[str, tuple[RoomKind, str | None, tuple[str, ...]]] = {
    "us-caucus": (RoomKind.CAUCUS, "us", ("us1", "us2", "om1")),
    "iran-caucus": (RoomKind.CAUCUS, "iran", ("ir1", "ir2", "om1")),
    "us-del": (RoomKind.DELEGATION, "us", ("us1", "us2")),
    "plenary": (RoomKind.PLENARY, None, ("us1", "ir1", "om1")),
}


def at(minutes: float) -> datetime:
    """A time ``minutes`` after the talks start."""
    return START + timedelta(minutes=minutes)


def setup_events() -> list[ev.Event]:
    """The events that build the standard talks."""
    events: list[ev.Event] = [
        ev.AddParty(at=START, actor="us", party="us"),
        ev.AddParty(at=START, actor="iran", party="iran"),
        ev.AddParty(at=START, actor="oman", party="oman", role=Role.MEDIATOR),
    ]
    for member, (party, level, grantor) in MEMBERS.items():
        events.append(
            ev.AddMember(
                at=START,
                actor=party,
                member=member,
                party=party,
                first_device=f"{member}.d1",
                fingerprint=f"fp-{member}",
            )
        )
        events.append(
            ev.Grant(
                at=START, actor=grantor or party, grant=f"{member}.g", member=member, level=level
            )
        )
    for room, (kind, party, members) in ROOMS.items():
        events.append(
            ev.CreateRoom(at=START, actor=party or "oman", room=room, kind=kind, party=party)
        )
        events.extend(ev.Join(at=START, actor=m, room=room, member=m) for m in members)
    return events


def build(events: list[ev.Event] | None = None) -> engine.Talks:
    """The standard talks, then ``events`` applied in order."""
    talks = engine.Talks(id="t")
    for event in [*setup_events(), *(events or [])]:
        talks = engine.apply(talks, event)
    return talks


def send(
    actor: str, room: str, message: str, label: Label = Label.CARRY_VERBATIM, when: float = 1
) -> ev.Send:
    """A plain message event."""
    return ev.Send(
        at=at(when), actor=actor, message=message, room=room, text=f"text of {message}", label=label
    )
