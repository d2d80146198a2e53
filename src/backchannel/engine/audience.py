"""Who receives an accepted event, and in which form: the fan-out rule every sending client uses.

The client encrypts each event only to the devices of its audience, so this function is where
confidentiality is decided. The rules:

- A **message** (send, offer) goes to its readers: the room's members with a live mandate and
  device when it was sent. Nobody else receives it — a ``mediator-only`` message cannot reach
  another party because it may only be sent where no other party listens.
- A **relay** goes to the readers of the new message in the target room, and to the mediator's
  members who read the source. Whoever read the source receives the full :class:`Relay`; everyone
  else receives the :class:`Carry` projection — for a gist, the mediator's words with no source
  named; for verbatim, the original's id, author and words, which verbatim carries on purpose.
- **Rooms** (create, join, leave) go to the parties that may be in the room: a caucus to its party
  and the mediator, a delegation room to its party alone, a plenary to everyone.
- **Acceptance, signature and confirmation** go to the readers of the copy of the offer they
  name (a confirmation names the copy its member accepted, so the same devices learn both).
- A **contact request** goes to the asking party, the asked party and the mediator it goes through.
- A **deposit** or **amendment** goes whole to the mediator's members and the depositing party's;
  every other member receives a :class:`DepositNotice` (id, author, place: never the
  commitment), so all count the same open deposits. A **withdrawal** names only an id: everyone.
- A **match** goes to the mediator's members and those of the parties whose deposits it names;
  every other member receives a :class:`MatchNotice` (which deposits it closed, never what they
  held, settled or planned), so all still count the same open deposits. A **direct match**
  goes to the members of its two parties.
- A party's **scores** go whole to the mediator's members and the submitting party's; every
  other member receives a :class:`ScoresNotice` (who, which agenda version, place: never the
  scores), as for a deposit. The **agenda** is talks-wide: every party scores it.
- **Parties, members, mandates and devices** go to everyone: every client checks every actor's
  mandate and device, so every client must know them.

Recipients are members (ids); each member's client fans out to that member's live devices. A
member added later first receives its :func:`backlog`: the events it would have received had it
been there, except messages (it may not read those: it was not in the room).
"""

from __future__ import annotations

from collections.abc import Iterable

from backchannel.engine import events as ev
from backchannel.engine.rules import RelayMode, RoomKind, may_be_in_room
from backchannel.engine.state import Talks


def audience(before: Talks, after: Talks, event: ev.Event) -> dict[str, ev.Event]:
    """Member id → the form of ``event`` that member receives (``after`` = ``before`` + event)."""
    match event:
        case ev.Send() | ev.Propose():
            return dict.fromkeys(sorted(after.messages[event.message].readers), event)
        case ev.Relay():
            return _relay(before, after, event)
        case ev.Carry():
            return dict.fromkeys(sorted(after.messages[event.message].readers), event)
        case ev.CreateRoom() | ev.Join() | ev.Leave():
            return dict.fromkeys(_room_parties_members(after, event.room), event)
        case ev.Accept() | ev.Sign() | ev.Confirm():
            return dict.fromkeys(sorted(after.messages[event.proposal].readers), event)
        case ev.Deposit() | ev.Amend():
            return _deposit(after, event)
        case ev.AnnounceMatch():
            return _match(after, event)
        case ev.DirectMatch():
            return dict.fromkeys(
                _members_of(after, set(after.direct[event.session].parties)), event
            )
        case ev.SubmitScores():
            return _scores(after, event)
        case ev.RequestContact():
            parties = {
                after.members[event.actor].party if event.actor in after.members else event.actor,
                event.to_party,
            }
            if event.via is not None:
                parties.add(event.via)
            return dict.fromkeys(_members_of(after, parties), event)
    return dict.fromkeys(sorted(after.members), event)


def _relay(before: Talks, after: Talks, event: ev.Relay) -> dict[str, ev.Event]:
    source = before.messages[event.source]
    carried = after.messages[event.message]
    mediator = after.mediator
    mediators = {m for m in source.readers if mediator and after.members[m].party == mediator.id}
    projection = ev.Carry(
        at=event.at,
        actor=event.actor,
        device=event.device,
        message=event.message,
        room=event.room,
        mode=event.mode,
        label=source.label,
        text=carried.text,
        lang=carried.lang,
        source=source.id if event.mode is RelayMode.VERBATIM else None,
        original_author=source.author if event.mode is RelayMode.VERBATIM else None,
        proposal=carried.proposal,
    )
    recipients = sorted(carried.readers | mediators)
    return {m: event if m in source.readers else projection for m in recipients}


def _deposit_parties(talks: Talks, event: ev.Deposit | ev.Amend) -> set[str]:
    """The parties that read a deposit whole: the depositing party and the mediator."""
    mediator = talks.mediator
    depositor = talks.deposits[event.deposit].party
    return {depositor} | (set() if mediator is None else {mediator.id})


def _deposit(talks: Talks, event: ev.Deposit | ev.Amend) -> dict[str, ev.Event]:
    readers = set(_members_of(talks, _deposit_parties(talks, event)))
    notice = _notice(event)
    return {m: event if m in readers else notice for m in sorted(talks.members)}


def _notice(event: ev.Deposit | ev.Amend) -> ev.DepositNotice:
    """The deposit as devices outside its audience receive it: no commitment."""
    return ev.DepositNotice(
        at=event.at,
        actor=event.actor,
        device=event.device,
        deposit=event.deposit,
        amended=isinstance(event, ev.Amend),
    )


def _scores_parties(talks: Talks, event: ev.SubmitScores) -> set[str]:
    """The parties that read a party's scores: the submitting party and the mediator."""
    mediator = talks.mediator
    own = event.actor if event.actor in talks.parties else talks.members[event.actor].party
    return {own} | (set() if mediator is None else {mediator.id})


def _scores(talks: Talks, event: ev.SubmitScores) -> dict[str, ev.Event]:
    readers = set(_members_of(talks, _scores_parties(talks, event)))
    notice = _scores_notice(event)
    return {m: event if m in readers else notice for m in sorted(talks.members)}


def _scores_notice(event: ev.SubmitScores) -> ev.ScoresNotice:
    """The submission as devices outside its audience receive it: no scores."""
    return ev.ScoresNotice(
        at=event.at, actor=event.actor, device=event.device, version=event.version
    )


def _match_parties(talks: Talks, event: ev.AnnounceMatch) -> set[str]:
    """The mediator and the parties whose deposits the match names."""
    mediator = talks.mediator
    matched = talks.matches[event.match].deposits
    return {talks.deposits[d].party for d in matched} | (
        set() if mediator is None else {mediator.id}
    )


def _match(talks: Talks, event: ev.AnnounceMatch) -> dict[str, ev.Event]:
    readers = set(_members_of(talks, _match_parties(talks, event)))
    notice = _match_notice(event)
    return {m: event if m in readers else notice for m in sorted(talks.members)}


def _match_notice(event: ev.AnnounceMatch) -> ev.MatchNotice:
    """The match as devices outside its parties receive it: which deposits it closed."""
    return ev.MatchNotice(
        at=event.at, actor=event.actor, device=event.device, match=event.match,
        deposits=event.deposits,
    )  # fmt: skip


def _contact_parties(talks: Talks, event: ev.RequestContact) -> set[str]:
    asking = talks.members[event.actor].party if event.actor in talks.members else event.actor
    return {asking, event.to_party} | ({event.via} if event.via is not None else set())


def _members_of(talks: Talks, parties: set[str]) -> list[str]:
    return sorted(m.id for m in talks.members.values() if m.party in parties)


def _room_parties_members(talks: Talks, room_id: str) -> list[str]:
    room = talks.rooms[room_id]
    if room.kind is RoomKind.PLENARY:
        return sorted(talks.members)
    allowed = {
        party.id
        for party in talks.parties.values()
        if may_be_in_room(room.kind, room.party, party.id, party.role)
    }
    return _members_of(talks, allowed)


def party_receives(talks: Talks, party: str, event: ev.Event) -> bool:
    """Whether ``party`` as a whole (its root authority, a member joining late) learns ``event``.

    Parties, members, mandates and devices; the structure of rooms the party may be in; contact
    requests it was part of. Never messages, relays or consents: those go to their readers.
    """
    match event:
        case ev.Send() | ev.Propose() | ev.Relay() | ev.Carry():
            return False
        case ev.Accept() | ev.Sign() | ev.Confirm():
            return False
        case ev.CreateRoom() | ev.Join() | ev.Leave():
            room = talks.rooms[event.room]
            member_party = talks.parties[party]
            return room.kind is RoomKind.PLENARY or may_be_in_room(
                room.kind, room.party, party, member_party.role
            )
        case ev.RequestContact():
            return party in _contact_parties(talks, event)
        case ev.Deposit() | ev.Amend():
            return party in _deposit_parties(talks, event)
        case ev.AnnounceMatch():
            return party in _match_parties(talks, event)
        case ev.DirectMatch():
            return party in talks.direct[event.session].parties
        case ev.SubmitScores():
            return party in _scores_parties(talks, event)
    return True


def party_form(talks: Talks, party: str, event: ev.Event) -> ev.Event | None:
    """The form of ``event`` a device of ``party``'s root authority receives, if any: the event
    where the party receives it (:func:`party_receives`), a deposit's, a match's or a
    submission's notice where it does not read the act, else None."""
    if isinstance(event, ev.Deposit | ev.Amend) and party not in _deposit_parties(talks, event):
        return _notice(event)
    if isinstance(event, ev.AnnounceMatch) and party not in _match_parties(talks, event):
        return _match_notice(event)
    if isinstance(event, ev.SubmitScores) and party not in _scores_parties(talks, event):
        return _scores_notice(event)
    return event if party_receives(talks, party, event) else None


def backlog(history: Iterable[ev.Event], talks: Talks, member: str) -> list[ev.Event]:
    """The earlier events a member newly added to ``talks`` receives before anything else.

    ``history`` is every accepted event so far, in order; the member gets those its party receives
    (:func:`party_receives`), and no messages: it was not in the rooms when they were sent.
    """
    party = talks.members[member].party
    return [event for event in history if party_receives(talks, party, event)]
