"""The talks state machine: ``apply(talks, event) -> talks`` or a :class:`RuleViolation`.

Every event goes through one order: the common checks of :func:`checks.authorise` (the record's
clock, the actor, root-only actions, the device, the mandate), then its action's own rules, from
the one handler :data:`HANDLERS` names for it. A rejected event changes nothing. ``apply`` takes
events in the record's order: each is judged on the state the record puts before it.

This module holds the set-up, membership, mandate, device and contact rules; speaking in rooms
is :mod:`.messages`, the negotiating text :mod:`.text`, the escrow :mod:`.deposit`, private
preferences :mod:`.preferences`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from backchannel.engine import checks, deposit, direct, messages, preferences, text
from backchannel.engine import events as ev
from backchannel.engine.checks import Checked
from backchannel.engine.mandate import standing
from backchannel.engine.rules import Role, RoomKind, may_be_in_room
from backchannel.engine.state import (
    ContactRequest,
    Device,
    Entry,
    MandateGrant,
    Member,
    Party,
    Room,
    Talks,
    evolve,
)
from backchannel.errors import (
    AlreadyInRoom,
    ContactInvalid,
    DeviceRevoked,
    DuplicateId,
    MandateExceedsGrantor,
    MandateExpired,
    MandateInsufficient,
    PartyInvalid,
    RoomComposition,
    UnknownEntity,
)


def apply(
    talks: Talks,
    event: ev.Event,
    *,
    recorded_at: datetime | None = None,
    sealed: bool = False,
) -> Talks:
    """The talks after ``event``, or raise the :class:`RuleViolation` it breaks.

    ``recorded_at`` is the record's time at the event's place (the host's stamp on its entry);
    without it (a scenario replayed without a host) it is the latest time claimed so far.
    ``sealed``: the event's subject is sealed from the caller (see :class:`checks.Checked`).
    """
    checked = checks.authorise(talks, event, recorded_at)
    if sealed:
        checked = replace(checked, sealed=True)
    after = HANDLERS[type(event)](talks, event, checked)
    seq = 1 if talks.last is None else talks.last.seq + 1
    entry = Entry(seq=seq, at=event.at, actor=event.actor, action=event.action)
    clock = checked.at if talks.clock is None else max(talks.clock, checked.at)
    return evolve(after, last=entry, clock=clock)


# --- set-up ----------------------------------------------------------------------------------


def _add_party(talks: Talks, e: ev.AddParty, c: Checked) -> Talks:
    if e.actor != e.party:
        raise PartyInvalid("a party is declared by its own root authority")
    checks.fresh(talks, e.party, wide=True)
    if e.role is Role.MEDIATOR and talks.mediator is not None:
        raise PartyInvalid(f"{talks.mediator.id!r} is already the mediator of these talks")
    party = Party(id=e.party, role=e.role, name=e.name, names=e.names)
    return evolve(talks, parties=checks.with_item(talks.parties, e.party, party))


def _add_member(talks: Talks, e: ev.AddMember, c: Checked) -> Talks:
    checks.party(talks, e.party)
    if e.actor != e.party:
        raise MandateInsufficient(f"only {e.party}'s root authority adds its members")
    checks.fresh(talks, e.member, wide=True)
    checks.fresh(talks, e.first_device, wide=True)
    if e.first_device == e.member:
        raise DuplicateId("a device needs an id of its own")
    member = Member(id=e.member, party=e.party, name=e.name, names=e.names)
    device = Device(id=e.first_device, member=e.member, fingerprint=e.fingerprint)
    return replace(
        talks,
        members=checks.with_item(talks.members, e.member, member),
        devices=checks.with_item(talks.devices, e.first_device, device),
    )


def _create_room(talks: Talks, e: ev.CreateRoom, c: Checked) -> Talks:
    checks.fresh(talks, e.room, wide=False)
    if (e.party is None) != (e.kind is RoomKind.PLENARY):
        raise RoomComposition("a caucus or delegation room belongs to one party; a plenary to none")
    if e.party is not None:
        checks.party(talks, e.party)
    creator = talks.parties[checks.actor_party(talks, e.actor)]
    if not may_be_in_room(e.kind, e.party, creator.id, creator.role):
        raise RoomComposition(f"{creator.id} may not create a {e.kind.value} room of {e.party}")
    room = Room(id=e.room, kind=e.kind, party=e.party, name=e.name, names=e.names)
    return evolve(talks, rooms=checks.with_item(talks.rooms, e.room, room))


# --- membership ------------------------------------------------------------------------------


def _join(talks: Talks, e: ev.Join, c: Checked) -> Talks:
    room = checks.room(talks, e.room)
    member = checks.member(talks, e.member)
    if e.actor not in (e.member, member.party):
        raise MandateInsufficient("a member joins a room itself, or its party's root adds it")
    party = talks.parties[member.party]
    if not may_be_in_room(room.kind, room.party, party.id, party.role):
        raise RoomComposition(
            f"{member.id} of {party.id} may not be in {room.kind.value} room {room.id!r}"
        )
    if e.member in room.members:
        raise AlreadyInRoom(f"{e.member} is already in room {room.id!r}")
    if standing(talks, e.member, c.at).level is None:
        raise MandateInsufficient(f"{e.member} holds no mandate and may not join")
    joined = replace(room, members=room.members | {e.member})
    return evolve(talks, rooms=checks.with_item(talks.rooms, room.id, joined))


def _leave(talks: Talks, e: ev.Leave, c: Checked) -> Talks:
    room = checks.room(talks, e.room)
    member = checks.member(talks, e.member)
    if e.actor not in (e.member, member.party):
        raise MandateInsufficient("a member leaves a room itself, or its root removes it")
    checks.in_room(room, e.member)
    left = replace(room, members=room.members - {e.member})
    return evolve(talks, rooms=checks.with_item(talks.rooms, room.id, left))


# --- mandates --------------------------------------------------------------------------------


def _grant(talks: Talks, e: ev.Grant, c: Checked) -> Talks:
    member = checks.member(talks, e.member)
    checks.fresh(talks, e.grant, wide=True)
    if checks.actor_party(talks, e.actor) != member.party:
        raise MandateInsufficient(f"only {member.party}'s own authority grants its mandates")
    if e.level > c.level:
        raise MandateExceedsGrantor(
            f"{e.actor} holds '{c.level.label}' and cannot grant '{e.level.label}'"
        )
    if e.expires is not None and e.expires <= c.at:
        raise MandateExpired("a grant cannot expire before it is made")
    grantor = None if c.root else e.actor
    grant = MandateGrant(
        id=e.grant, member=e.member, level=e.level, grantor=grantor, at=e.at, expires=e.expires
    )
    return evolve(talks, grants=checks.with_item(talks.grants, e.grant, grant))


def _revoke(talks: Talks, e: ev.Revoke, c: Checked) -> Talks:
    member = checks.member(talks, e.member)
    if checks.actor_party(talks, e.actor) != member.party:
        raise MandateInsufficient(f"only {member.party}'s own authority revokes its mandates")
    target = standing(talks, e.member, c.at).level
    if e.actor != e.member and target is not None and target > c.level:
        raise MandateExceedsGrantor(
            f"{e.actor} holds '{c.level.label}' and cannot revoke a '{target.label}' mandate"
        )
    grants = talks.grants
    for grant in talks.grants.values():
        if grant.member == e.member and grant.revoked_at is None:
            grants = checks.with_item(grants, grant.id, replace(grant, revoked_at=c.at))
    return evolve(talks, grants=grants)


# --- devices ---------------------------------------------------------------------------------


def _add_device(talks: Talks, e: ev.AddDevice, c: Checked) -> Talks:
    member = checks.member(talks, e.member)
    if e.actor not in (e.member, member.party):
        raise MandateInsufficient("a member adds its own devices, or its party's root does")
    checks.fresh(talks, e.new_device, wide=True)
    device = Device(id=e.new_device, member=e.member, fingerprint=e.fingerprint)
    return evolve(talks, devices=checks.with_item(talks.devices, e.new_device, device))


def _revoke_device(talks: Talks, e: ev.RevokeDevice, c: Checked) -> Talks:
    device = talks.devices.get(e.target)
    if device is None:
        raise UnknownEntity(f"there is no device {e.target!r}")
    owner = talks.members[device.member]
    if e.actor not in (device.member, owner.party):
        raise MandateInsufficient("a member revokes its own devices, or its party's root does")
    if device.revoked:
        raise DeviceRevoked(f"device {e.target!r} was already revoked")
    revoked = replace(device, revoked_at=c.at)
    return evolve(talks, devices=checks.with_item(talks.devices, e.target, revoked))


# --- contact ---------------------------------------------------------------------------------


def _request_contact(talks: Talks, e: ev.RequestContact, c: Checked) -> Talks:
    checks.fresh(talks, e.request, wide=False)
    party = checks.actor_party(talks, e.actor)
    checks.party(talks, e.to_party)
    if e.to_party == party:
        raise ContactInvalid("a party cannot ask itself to open talks")
    if e.via is not None:
        via = checks.party(talks, e.via)
        if via.role is not Role.MEDIATOR or via.id in (party, e.to_party):
            raise ContactInvalid(f"{e.via} is not a mediator between {party} and {e.to_party}")
    request = ContactRequest(
        id=e.request,
        party=party,
        member=None if c.root else e.actor,
        to_party=e.to_party,
        via=e.via,
        at=e.at,
        text=e.text,
    )
    return evolve(talks, requests=checks.with_item(talks.requests, e.request, request))


def _set_retention(talks: Talks, e: ev.SetRetention, c: Checked) -> Talks:
    mediator = talks.mediator
    if mediator is not None and e.actor != mediator.id:
        raise MandateInsufficient("only the mediator's root authority sets document retention")
    if e.days > MAX_RETENTION_DAYS:
        raise MandateInsufficient(f"document retention is at most {MAX_RETENTION_DAYS} days")
    return replace(talks, document_retention_days=e.days)


#: The longest document retention a talks may set (ten years).
MAX_RETENTION_DAYS = 3650

_Handler = Callable[[Talks, Any, Checked], Talks]

#: The one handler of each event class: its action's own rules (totality: tests/engine).
HANDLERS: Mapping[type[ev.Event], _Handler] = {
    ev.AddParty: _add_party,
    ev.AddMember: _add_member,
    ev.CreateRoom: _create_room,
    ev.Join: _join,
    ev.Leave: _leave,
    ev.Grant: _grant,
    ev.Revoke: _revoke,
    ev.AddDevice: _add_device,
    ev.RevokeDevice: _revoke_device,
    ev.Send: messages.post,
    ev.Propose: messages.post,
    ev.Relay: messages.relay,
    ev.Carry: messages.carry,
    ev.Accept: messages.consent,
    ev.Sign: messages.consent,
    ev.Confirm: messages.confirm,
    ev.DraftArticle: text.draft,
    ev.AgreeArticle: text.consent,
    ev.InitialArticle: text.consent,
    ev.SignArticle: text.consent,
    ev.RequestContact: _request_contact,
    ev.SetRetention: _set_retention,
    ev.Deposit: deposit.deposit,
    ev.Amend: deposit.deposit,
    ev.Withdraw: deposit.withdraw,
    ev.DepositNotice: deposit.notice,
    ev.AnnounceMatch: deposit.announce,
    ev.MatchNotice: deposit.match_notice,
    ev.DirectMatch: direct.sign,
    ev.SetAgenda: preferences.set_agenda,
    ev.SubmitScores: preferences.submit,
    ev.ScoresNotice: preferences.notice,
}
