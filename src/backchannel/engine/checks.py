"""The checks every event goes through first, in one order, and the lookups handlers share.

:func:`authorise` runs them for every event, before the action's own rules:

1. **clock** — the record's time at the event's place (the host's stamp on its entry, or in a
   replay without a host the latest time claimed so far); the time the event claims may differ
   from it by at most :data:`~rules.CLOCK_TOLERANCE` (``event.out_of_order``,
   ``event.ahead_of_record``);
2. **actor** — a member of the talks, or a party's root authority (``entity.unknown``);
3. **root only** — actions only a root performs (``mandate.insufficient`` for a member);
4. **device** — a member acts through one of its devices that no revocation earlier in the
   record took away (``device.unknown``, ``device.revoked``);
5. **mandate** — the member's standing at this place reaches the action's level
   (``mandate.revoked``, ``mandate.expired``, ``mandate.insufficient``).

So the same bad event always fails with the same code, and since every check reads only the
state the record puts before the event and the record's own time, every device that holds the
same record prefix reaches the same verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from backchannel.engine import events as ev
from backchannel.engine.mandate import Lapse, standing
from backchannel.engine.rules import ACTIONS, CLOCK_TOLERANCE, Level
from backchannel.engine.state import Device, Member, Message, Party, Room, Talks
from backchannel.engine.table import Table
from backchannel.errors import (
    DeviceRevoked,
    DeviceUnknown,
    DuplicateId,
    EventAhead,
    EventOutOfOrder,
    MandateExpired,
    MandateInsufficient,
    MandateRevoked,
    NotRoomMember,
    UnknownEntity,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Checked:
    """What the common checks established: the level the actor acts with, the record's time at
    the event's place, and whether a root acts. ``sealed``: the event's subject (the offer or
    article version a consent names) is sealed from whoever applies it, so only the rules that do
    not read the subject apply (an offline verifier of a bundle exported without content)."""

    level: Level
    at: datetime
    root: bool
    sealed: bool = False


def record_time(talks: Talks, event: ev.Event, recorded_at: datetime | None) -> datetime:
    """The record's time at ``event``'s place, once its claimed time is within tolerance."""
    if recorded_at is None:
        # Replayed without a host: the record's clock is the latest time claimed so far.
        recorded_at = event.at if talks.clock is None else max(talks.clock, event.at)
    if event.at < recorded_at - CLOCK_TOLERANCE:
        raise EventOutOfOrder(
            f"{event.actor}'s {event.action.value} claims {event.at.isoformat()}, but the record "
            f"is at {recorded_at.isoformat()} where it stands: an act cannot be dated back"
        )
    if event.at > recorded_at + CLOCK_TOLERANCE:
        raise EventAhead(
            f"{event.actor}'s {event.action.value} claims {event.at.isoformat()}, ahead of the "
            f"record's time {recorded_at.isoformat()} where it stands"
        )
    return recorded_at


def authorise(talks: Talks, event: ev.Event, recorded_at: datetime | None = None) -> Checked:
    """Run the common checks for ``event`` at the end of ``talks``; raise the first that fails."""
    at = record_time(talks, event, recorded_at)
    rule = ACTIONS[event.action]
    if event.actor not in talks.members:
        if event.actor in talks.parties or isinstance(event, ev.AddParty):
            # A party's root authority (or one declaring its party) holds every level.
            return Checked(Level.SIGN, at, root=True)
        raise UnknownEntity(f"there is no member or party {event.actor!r} in these talks")
    action = event.action.value
    if rule.root_only:
        raise MandateInsufficient(f"only a party's root authority may {action}, not a member")
    _check_device(talks, event)
    held = standing(talks, event.actor, at)
    if held.level is None:
        if held.lapse is Lapse.REVOKED:
            raise MandateRevoked(f"{event.actor}'s mandate was revoked; it may not {action}")
        if held.lapse is Lapse.EXPIRED:
            raise MandateExpired(f"{event.actor}'s mandate has expired; it may not {action}")
        raise MandateInsufficient(f"{event.actor} holds no mandate; it may not {action}")
    if held.level < rule.level:
        raise MandateInsufficient(
            f"{action} needs a '{rule.level.label}' mandate; {event.actor} holds "
            f"'{held.level.label}'"
        )
    return Checked(held.level, at, root=False)


def _check_device(talks: Talks, event: ev.Event) -> None:
    """A member acts through one of its devices that is not revoked."""
    if event.device is not None:
        device = talks.devices.get(event.device)
        if device is None or device.member != event.actor:
            raise DeviceUnknown(f"{event.device!r} is not a device of {event.actor!r}")
        if device.revoked:
            raise DeviceRevoked(f"device {event.device!r} was revoked")
    elif not live_devices(talks, event.actor):
        raise DeviceRevoked(f"every device of {event.actor!r} has been revoked")


# --- lookups ---------------------------------------------------------------------------------


def get(table: Mapping[str, T], key: str, what: str) -> T:
    """``table[key]``, or :class:`UnknownEntity` naming ``what``."""
    try:
        return table[key]
    except KeyError:
        raise UnknownEntity(f"there is no {what} {key!r} in these talks") from None


def party(talks: Talks, party_id: str) -> Party:
    """A party of the talks."""
    return get(talks.parties, party_id, "party")


def member(talks: Talks, member_id: str) -> Member:
    """A member of the talks."""
    return get(talks.members, member_id, "member")


def room(talks: Talks, room_id: str) -> Room:
    """A room of the talks."""
    return get(talks.rooms, room_id, "room")


def message(talks: Talks, message_id: str) -> Message:
    """A message this view holds."""
    return get(talks.messages, message_id, "message")


def fresh(talks: Talks, new_id: str, *, wide: bool) -> None:
    """``new_id`` is not taken. A talks-wide act (``wide``) is judged on the talks-wide ids
    only, which every device holds; other acts on every id this view knows."""
    if not new_id:
        raise DuplicateId("an id may not be empty")
    if talks.uses(new_id, wide=wide):
        raise DuplicateId(f"the id {new_id!r} is already in use")


def with_item(mapping: Mapping[str, T], key: str, value: T) -> Table[T]:
    """``mapping`` with ``key`` set to ``value``, as a new table (structure shared)."""
    table = mapping if isinstance(mapping, Table) else Table(mapping)
    return table.set(key, value)


def live_devices(talks: Talks, member_id: str) -> list[Device]:
    """The devices of a member that no revocation took away."""
    return [d for d in talks.devices.values() if d.member == member_id and not d.revoked]


def actor_party(talks: Talks, actor: str) -> str:
    """The party an actor acts for: its own id for a root, its party for a member."""
    if actor in talks.parties:
        return actor
    return member(talks, actor).party


def for_mediator(talks: Talks, actor: str) -> bool:
    """Whether the actor acts for the talks' mediator (its root or one of its members)."""
    mediator = talks.mediator
    return mediator is not None and actor_party(talks, actor) == mediator.id


def readers(talks: Talks, in_room: Room, at: datetime) -> frozenset[str]:
    """Who reads a message sent now: members in the room with a mandate and a live device."""
    return frozenset(
        m
        for m in in_room.members
        if standing(talks, m, at).level is not None and live_devices(talks, m)
    )


def in_room(where: Room, member_id: str) -> None:
    """``member_id`` is in the room, or :class:`NotRoomMember`."""
    if member_id not in where.members:
        raise NotRoomMember(f"{member_id} is not in room {where.id!r}")
