"""The talks state machine: ``apply(talks, event) -> talks`` or a :class:`RuleViolation`.

Checks run in one order for every event — time, actor, device, mandate, then the action's own
rules — so the same bad event always fails with the same code. A rejected event changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from backchannel.engine import events as ev
from backchannel.engine import quotation
from backchannel.engine import text as draft
from backchannel.engine.mandate import Lapse, standing
from backchannel.engine.rules import (
    ARTICLE_STAGES,
    ARTICLE_STATUS_ORDER,
    PRIVATE_ROOM_KINDS,
    RELAY_MODES,
    REQUIRED_LEVEL,
    ROOT_ONLY,
    ArticleStatus,
    Label,
    Level,
    RelayMode,
    Role,
    RoomKind,
    may_be_in_room,
)
from backchannel.engine.state import (
    Article,
    ArticleConsent,
    ArticleVersion,
    Confirmation,
    Consent,
    ContactRequest,
    Device,
    Entry,
    MandateGrant,
    Member,
    Message,
    Party,
    Room,
    Talks,
)
from backchannel.errors import (
    AlreadyInRoom,
    ConfirmNotAccepted,
    ConfirmRepeated,
    ContactInvalid,
    DeviceRevoked,
    DeviceUnknown,
    DuplicateId,
    EventOutOfOrder,
    MandateExceedsGrantor,
    MandateExpired,
    MandateInsufficient,
    MandateRevoked,
    NotRoomMember,
    PartyInvalid,
    ProposalInvalid,
    RelayLabelForbids,
    RelayNeedsOwnWords,
    RelayNotMediator,
    RelaySameRoom,
    RoomComposition,
    SendLabelForbids,
    TextAwaitingParties,
    TextBracketed,
    TextDuplicate,
    TextFinal,
    TextNotAParty,
    TextNotPenHolder,
    TextStale,
    UnknownEntity,
)

E = TypeVar("E", bound=ev.Event)
T = TypeVar("T")
_Handler = Callable[[Talks, Any], Talks]
_HANDLERS: dict[type[ev.Event], _Handler] = {}


def _handles(kind: type[E]) -> Callable[[Callable[[Talks, E], Talks]], Callable[[Talks, E], Talks]]:
    def register(fn: Callable[[Talks, E], Talks]) -> Callable[[Talks, E], Talks]:
        _HANDLERS[kind] = fn
        return fn

    return register


def apply(talks: Talks, event: ev.Event) -> Talks:
    """The talks after ``event``, or raise the :class:`RuleViolation` it breaks.

    Each actor's events come in its own time order. Different actors' devices send concurrently
    and every device applies events in the order they arrive, so one actor's event may be dated
    before another's that arrived first: that is not an error.
    """
    last = talks.last_at_of(event.actor)
    if last is not None and event.at < last:
        raise EventOutOfOrder(
            f"{event.actor}'s event at {event.at.isoformat()} is dated before its last one "
            f"({last.isoformat()})"
        )
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise TypeError(f"no rule for {type(event).__name__}")
    after = handler(talks, event)
    entry = Entry(seq=len(talks.log) + 1, at=event.at, actor=event.actor, action=event.action)
    return replace(after, log=(*talks.log, entry))


# --- lookups ---------------------------------------------------------------------------------


def _get(table: Mapping[str, T], key: str, what: str) -> T:
    try:
        return table[key]
    except KeyError:
        raise UnknownEntity(f"there is no {what} {key!r} in these talks") from None


def _party(talks: Talks, party: str) -> Party:
    return _get(talks.parties, party, "party")


def _member(talks: Talks, member: str) -> Member:
    return _get(talks.members, member, "member")


def _room(talks: Talks, room: str) -> Room:
    return _get(talks.rooms, room, "room")


def _message(talks: Talks, message: str) -> Message:
    return _get(talks.messages, message, "message")


def _fresh(talks: Talks, new_id: str) -> None:
    if not new_id:
        raise DuplicateId("an id may not be empty")
    if new_id in talks.used_ids():
        raise DuplicateId(f"the id {new_id!r} is already in use")


def _with(mapping: Any, key: str, value: Any) -> dict[str, Any]:
    return {**mapping, key: value}


def _live_devices(talks: Talks, member: str, at: datetime) -> list[Device]:
    return [
        d
        for d in talks.devices.values()
        if d.member == member and (d.revoked_at is None or d.revoked_at > at)
    ]


# --- who is acting ---------------------------------------------------------------------------


def _is_root(talks: Talks, actor: str) -> bool:
    return actor in talks.parties


def _actor_party(talks: Talks, actor: str) -> str:
    if _is_root(talks, actor):
        return actor
    return _member(talks, actor).party


def _check_device(talks: Talks, event: ev.Event) -> None:
    """A member acts through one of its devices that is not revoked; a root acts offline."""
    if _is_root(talks, event.actor):
        return
    if event.device is not None:
        device = talks.devices.get(event.device)
        if device is None or device.member != event.actor:
            raise DeviceUnknown(f"{event.device!r} is not a device of {event.actor!r}")
        if device.revoked_at is not None and device.revoked_at <= event.at:
            raise DeviceRevoked(f"device {event.device!r} was revoked")
    elif not _live_devices(talks, event.actor, event.at):
        raise DeviceRevoked(f"every device of {event.actor!r} has been revoked")


def _require(talks: Talks, event: ev.Event, needed: Level) -> Level:
    """Check the actor (member or root) may do ``event``; return the level it acts with."""
    if _is_root(talks, event.actor):
        return Level.SIGN
    _member(talks, event.actor)
    _check_device(talks, event)
    action = event.action.value
    if event.action in ROOT_ONLY:
        raise MandateInsufficient(f"only a party's root authority may {action}, not a member")
    held = standing(talks, event.actor, event.at)
    if held.level is None:
        if held.lapse is Lapse.REVOKED:
            raise MandateRevoked(f"{event.actor}'s mandate was revoked; it may not {action}")
        if held.lapse is Lapse.EXPIRED:
            raise MandateExpired(f"{event.actor}'s mandate has expired; it may not {action}")
        raise MandateInsufficient(f"{event.actor} holds no mandate; it may not {action}")
    if held.level < needed:
        raise MandateInsufficient(
            f"{action} needs a '{needed.label}' mandate; {event.actor} holds '{held.level.label}'"
        )
    return held.level


def _acting(talks: Talks, event: ev.Event) -> Level:
    return _require(talks, event, REQUIRED_LEVEL[event.action])


def _readers(talks: Talks, room: Room, at: datetime) -> frozenset[str]:
    """Who reads a message sent now: members in the room with a mandate and a live device."""
    return frozenset(
        m
        for m in room.members
        if standing(talks, m, at).level is not None and _live_devices(talks, m, at)
    )


def _in_room(room: Room, member: str) -> None:
    if member not in room.members:
        raise NotRoomMember(f"{member} is not in room {room.id!r}")


# --- set-up ----------------------------------------------------------------------------------


@_handles(ev.AddParty)
def _add_party(talks: Talks, e: ev.AddParty) -> Talks:
    _fresh(talks, e.party)
    if e.actor != e.party:
        raise PartyInvalid("a party is declared by its own root authority")
    if e.role is Role.MEDIATOR and talks.mediator is not None:
        raise PartyInvalid(f"{talks.mediator.id!r} is already the mediator of these talks")
    party = Party(id=e.party, role=e.role, name=e.name)
    return replace(talks, parties=_with(talks.parties, e.party, party))


@_handles(ev.AddMember)
def _add_member(talks: Talks, e: ev.AddMember) -> Talks:
    _party(talks, e.party)
    if e.actor != e.party:
        raise MandateInsufficient(f"only {e.party}'s root authority adds its members")
    _fresh(talks, e.member)
    _fresh(talks, e.first_device)
    if e.first_device == e.member:
        raise DuplicateId("a device needs an id of its own")
    member = Member(id=e.member, party=e.party, name=e.name)
    device = Device(id=e.first_device, member=e.member, fingerprint=e.fingerprint)
    return replace(
        talks,
        members=_with(talks.members, e.member, member),
        devices=_with(talks.devices, e.first_device, device),
    )


@_handles(ev.CreateRoom)
def _create_room(talks: Talks, e: ev.CreateRoom) -> Talks:
    _fresh(talks, e.room)
    if (e.party is None) != (e.kind is RoomKind.PLENARY):
        raise RoomComposition("a caucus or delegation room belongs to one party; a plenary to none")
    if e.party is not None:
        _party(talks, e.party)
    _acting(talks, e)
    creator = talks.parties[_actor_party(talks, e.actor)]
    if not may_be_in_room(e.kind, e.party, creator.id, creator.role):
        raise RoomComposition(f"{creator.id} may not create a {e.kind.value} room of {e.party}")
    room = Room(id=e.room, kind=e.kind, party=e.party, name=e.name)
    return replace(talks, rooms=_with(talks.rooms, e.room, room))


# --- membership ------------------------------------------------------------------------------


@_handles(ev.Join)
def _join(talks: Talks, e: ev.Join) -> Talks:
    room = _room(talks, e.room)
    member = _member(talks, e.member)
    _acting(talks, e)
    if e.actor not in (e.member, member.party):
        raise MandateInsufficient("a member joins a room itself, or its party's root adds it")
    party = talks.parties[member.party]
    if not may_be_in_room(room.kind, room.party, party.id, party.role):
        raise RoomComposition(
            f"{member.id} of {party.id} may not be in {room.kind.value} room {room.id!r}"
        )
    if e.member in room.members:
        raise AlreadyInRoom(f"{e.member} is already in room {room.id!r}")
    if standing(talks, e.member, e.at).level is None:
        raise MandateInsufficient(f"{e.member} holds no mandate and may not join")
    joined = replace(room, members=room.members | {e.member})
    return replace(talks, rooms=_with(talks.rooms, room.id, joined))


@_handles(ev.Leave)
def _leave(talks: Talks, e: ev.Leave) -> Talks:
    room = _room(talks, e.room)
    member = _member(talks, e.member)
    if e.actor != member.party:
        _acting(talks, e)
        if e.actor != e.member:
            raise MandateInsufficient("a member leaves a room itself, or its root removes it")
    _in_room(room, e.member)
    left = replace(room, members=room.members - {e.member})
    return replace(talks, rooms=_with(talks.rooms, room.id, left))


# --- mandates --------------------------------------------------------------------------------


@_handles(ev.Grant)
def _grant(talks: Talks, e: ev.Grant) -> Talks:
    member = _member(talks, e.member)
    _fresh(talks, e.grant)
    held = _acting(talks, e)
    if _actor_party(talks, e.actor) != member.party:
        raise MandateInsufficient(f"only {member.party}'s own authority grants its mandates")
    if e.level > held:
        raise MandateExceedsGrantor(
            f"{e.actor} holds '{held.label}' and cannot grant '{e.level.label}'"
        )
    if e.expires is not None and e.expires <= e.at:
        raise MandateExpired("a grant cannot expire before it is made")
    grantor = None if _is_root(talks, e.actor) else e.actor
    grant = MandateGrant(
        id=e.grant, member=e.member, level=e.level, grantor=grantor, at=e.at, expires=e.expires
    )
    return replace(talks, grants=_with(talks.grants, e.grant, grant))


@_handles(ev.Revoke)
def _revoke(talks: Talks, e: ev.Revoke) -> Talks:
    member = _member(talks, e.member)
    held = _acting(talks, e)
    if _actor_party(talks, e.actor) != member.party:
        raise MandateInsufficient(f"only {member.party}'s own authority revokes its mandates")
    target = standing(talks, e.member, e.at).level
    if e.actor != e.member and target is not None and target > held:
        raise MandateExceedsGrantor(
            f"{e.actor} holds '{held.label}' and cannot revoke a '{target.label}' mandate"
        )
    grants = dict(talks.grants)
    for grant in talks.grants.values():
        if grant.member == e.member and grant.revoked_at is None:
            grants[grant.id] = replace(grant, revoked_at=e.at)
    return replace(talks, grants=grants)


# --- devices ---------------------------------------------------------------------------------


@_handles(ev.AddDevice)
def _add_device(talks: Talks, e: ev.AddDevice) -> Talks:
    member = _member(talks, e.member)
    _fresh(talks, e.new_device)
    if e.actor not in (e.member, member.party):
        raise MandateInsufficient("a member adds its own devices, or its party's root does")
    _acting(talks, e)
    device = Device(id=e.new_device, member=e.member, fingerprint=e.fingerprint)
    return replace(talks, devices=_with(talks.devices, e.new_device, device))


@_handles(ev.RevokeDevice)
def _revoke_device(talks: Talks, e: ev.RevokeDevice) -> Talks:
    device = talks.devices.get(e.target)
    if device is None:
        raise UnknownEntity(f"there is no device {e.target!r}")
    owner = talks.members[device.member]
    if e.actor not in (device.member, owner.party):
        raise MandateInsufficient("a member revokes its own devices, or its party's root does")
    if e.actor == device.member:
        _acting(talks, e)
    if device.revoked_at is not None:
        raise DeviceRevoked(f"device {e.target!r} was already revoked")
    revoked = replace(device, revoked_at=e.at)
    return replace(talks, devices=_with(talks.devices, e.target, revoked))


# --- messages --------------------------------------------------------------------------------


def _post(talks: Talks, e: ev.Send | ev.Propose, proposal: bool) -> Talks:
    room = _room(talks, e.room)
    _fresh(talks, e.message)
    _acting(talks, e)
    _in_room(room, e.actor)
    if e.label is Label.MEDIATOR_ONLY and room.kind not in PRIVATE_ROOM_KINDS:
        raise SendLabelForbids(
            f"a mediator-only message cannot be sent in {room.kind.value} room {room.id!r}, "
            "where other parties listen"
        )
    message = Message(
        id=e.message,
        room=room.id,
        author=e.actor,
        at=e.at,
        text=e.text,
        label=e.label,
        readers=_readers(talks, room, e.at),
        lang=e.lang,
        proposal=proposal,
    )
    return replace(talks, messages=_with(talks.messages, e.message, message))


@_handles(ev.Send)
def _send(talks: Talks, e: ev.Send) -> Talks:
    return _post(talks, e, proposal=False)


@_handles(ev.Propose)
def _propose(talks: Talks, e: ev.Propose) -> Talks:
    return _post(talks, e, proposal=True)


def _check_mediator(talks: Talks, actor: str) -> None:
    mediator = talks.mediator
    if mediator is None or _is_root(talks, actor) or _actor_party(talks, actor) != mediator.id:
        raise RelayNotMediator("only a member of the mediator's delegation relays between rooms")


def _check_mode(label: Label, mode: RelayMode, what: str) -> None:
    if mode not in RELAY_MODES[label]:
        raise RelayLabelForbids(
            f"message {what} is labelled {label.value}; it may not be relayed {mode.value}"
        )


@_handles(ev.Relay)
def _relay(talks: Talks, e: ev.Relay) -> Talks:
    source = _message(talks, e.source)
    target = _room(talks, e.room)
    _fresh(talks, e.message)
    _check_mediator(talks, e.actor)
    _acting(talks, e)
    if e.actor not in source.readers:
        raise NotRoomMember(f"{e.actor} did not receive message {source.id!r} and cannot carry it")
    _in_room(_room(talks, source.room), e.actor)
    _in_room(target, e.actor)
    if target.id == source.room:
        raise RelaySameRoom("a relay carries a message into another room")
    _check_mode(source.label, e.mode, repr(source.id))
    if e.mode is RelayMode.GIST:
        words = e.text.strip()
        if not words or words == source.text.strip():
            raise RelayNeedsOwnWords("a gist needs the mediator's own words, not the original")
        run = quotation.quoted(e.text, source.text) if source.label is Label.CARRY_GIST else None
        if run is not None:
            raise RelayNeedsOwnWords(f"a gist may not repeat the original's words: “{run}”")
        text, author, lang = e.text, e.actor, e.lang
    else:
        if e.text and e.text != source.text:
            raise RelayNeedsOwnWords("a verbatim relay carries the original text unchanged")
        text, author, lang = source.text, source.author, source.lang
    message = Message(
        id=e.message,
        room=target.id,
        author=author,
        at=e.at,
        text=text,
        label=source.label,
        readers=_readers(talks, target, e.at),
        lang=lang,
        proposal=source.proposal and e.mode is RelayMode.VERBATIM,
        relay=e.mode,
        source=source.id,
        relayed_by=e.actor,
    )
    return replace(talks, messages=_with(talks.messages, e.message, message))


@_handles(ev.Carry)
def _carry(talks: Talks, e: ev.Carry) -> Talks:
    target = _room(talks, e.room)
    _fresh(talks, e.message)
    _check_mediator(talks, e.actor)
    _acting(talks, e)
    _in_room(target, e.actor)
    _check_mode(e.label, e.mode, e.source or "the carried message")
    if e.mode is RelayMode.GIST:
        if e.source is not None or e.original_author is not None:
            raise RelayLabelForbids("a gist carries the mediator's words and names no original")
        if not e.text.strip():
            raise RelayNeedsOwnWords("a gist needs the mediator's own words")
        author = e.actor
    else:
        if e.source is None or e.original_author is None:
            raise RelayNeedsOwnWords("a verbatim relay names the original and its author")
        author = _member(talks, e.original_author).id
    message = Message(
        id=e.message,
        room=target.id,
        author=author,
        at=e.at,
        text=e.text,
        label=e.label,
        readers=_readers(talks, target, e.at),
        lang=e.lang,
        proposal=e.proposal and e.mode is RelayMode.VERBATIM,
        relay=e.mode,
        source=e.source,
        relayed_by=e.actor,
    )
    return replace(talks, messages=_with(talks.messages, e.message, message))


# --- consent ---------------------------------------------------------------------------------


def origin(talks: Talks, message: str) -> tuple[str, Message]:
    """The id of the original of ``message`` and the closest copy of it this talks holds.

    Verbatim relays are followed back to where the words were first said; a device that never
    saw the original (it was in another room) stops at its carried copy, which names the original.
    """
    found = _message(talks, message)
    original = found.id
    while found.relay is RelayMode.VERBATIM and found.source is not None:
        original = found.source
        earlier = talks.messages.get(found.source)
        if earlier is None:
            break
        found = earlier
    return original, found


def _consent(talks: Talks, e: ev.Accept | ev.Sign, signed: bool) -> Talks:
    # Decidable from the named copy alone, so every device that receives the act (the readers of
    # that copy) reaches the same verdict; the order of consents (accept before sign) belongs to
    # the negotiating text, which every party sees.
    seen = _message(talks, e.proposal)
    _acting(talks, e)
    if e.actor not in seen.readers:
        raise NotRoomMember(f"{e.actor} has not received {seen.id!r}")
    offer_id, offer = origin(talks, e.proposal)
    if not offer.proposal:
        raise ProposalInvalid(
            f"{seen.id!r} is not an offer (a gist is the mediator's words; accept the original)"
        )
    party = _actor_party(talks, e.actor)
    if not signed and party == talks.members[offer.author].party:
        raise ProposalInvalid(f"{party} made offer {offer_id!r}; it cannot accept its own")
    consent = Consent(
        proposal=offer_id, party=party, member=e.actor, at=e.at, signed=signed, copy=seen.id
    )
    return replace(talks, consents=(*talks.consents, consent))


@_handles(ev.Accept)
def _accept(talks: Talks, e: ev.Accept) -> Talks:
    return _consent(talks, e, signed=False)


@_handles(ev.Sign)
def _sign(talks: Talks, e: ev.Sign) -> Talks:
    return _consent(talks, e, signed=True)


@_handles(ev.Confirm)
def _confirm(talks: Talks, e: ev.Confirm) -> Talks:
    # The acceptance must name the same copy: its readers, who receive the confirmation, received
    # that acceptance (and any earlier confirmation), so each of them reaches the same verdict.
    seen = _message(talks, e.proposal)
    _acting(talks, e)
    accepted = talks.acceptance(e.actor, seen.id, e.at)
    if accepted is None:
        raise ConfirmNotAccepted(
            f"no member of {e.actor} accepted {seen.id!r} ad referendum before: nothing to confirm"
        )
    if any(c.party == e.actor and c.copy == seen.id for c in talks.confirmations):
        raise ConfirmRepeated(f"{e.actor} already confirmed its acceptance of {seen.id!r}")
    confirmation = Confirmation(
        proposal=accepted.proposal, copy=seen.id, party=e.actor, member=accepted.member, at=e.at
    )
    return replace(talks, confirmations=(*talks.confirmations, confirmation))


# --- the negotiating text --------------------------------------------------------------------


@_handles(ev.DraftArticle)
def _draft_article(talks: Talks, e: ev.DraftArticle) -> Talks:
    # The single negotiating text: in mediated talks the mediator alone holds the pen, and the
    # parties' language reaches it as offers; without a mediator any party's drafter does.
    existing = talks.articles.get(e.article)
    if existing is None:
        _fresh(talks, e.article)
    _acting(talks, e)
    mediator = talks.mediator
    if mediator is not None and _actor_party(talks, e.actor) != mediator.id:
        raise TextNotPenHolder(
            f"{mediator.id} mediates and holds the pen; send your language to it as an offer"
        )
    draft.parse(e.text)
    version = ArticleVersion(number=1, text=e.text, author=e.actor, at=e.at, lang=e.lang)
    if existing is None:
        article = Article(
            id=e.article,
            title=e.title,
            position=len(talks.articles) + 1,
            versions=(version,),
        )
    else:
        if draft.status(talks, existing) is ArticleStatus.SIGNED:
            raise TextFinal(f"every party signed article {e.article!r}; it is final")
        current = existing.current
        if e.text == current.text and e.title in ("", existing.title):
            raise TextDuplicate(f"this draft of {e.article!r} changes nothing")
        article = replace(
            existing,
            title=e.title or existing.title,
            versions=(*existing.versions, replace(version, number=current.number + 1)),
        )
    return replace(talks, articles=_with(talks.articles, e.article, article))


def _article_consent(talks: Talks, e: ev.ArticleConsent) -> Talks:
    article = _get(talks.articles, e.article, "article")
    _acting(talks, e)
    party = _actor_party(talks, e.actor)
    if talks.parties[party].role is Role.MEDIATOR:
        raise TextNotAParty("the mediator holds the pen; only the parties consent to the text")
    if e.version != article.current.number:
        raise TextStale(
            f"article {article.id!r} is at version {article.current.number}, not {e.version}"
        )
    stage, needs = ARTICLE_STAGES[e.action]
    reached = draft.party_stage(article, party)
    if reached is not None and ARTICLE_STATUS_ORDER.index(reached) >= ARTICLE_STATUS_ORDER.index(
        stage
    ):
        raise TextDuplicate(f"{party} already {reached.value} version {e.version} of {e.article!r}")
    if needs is None:
        left = draft.brackets(article.current.text)
        if left:
            raise TextBracketed(
                f"article {article.id!r} still holds {left} bracket(s); agree it once none is left"
            )
    else:
        waiting = draft.waiting_for(talks, article, needs)
        if waiting:
            raise TextAwaitingParties(
                f"{e.action.value} needs every party at {needs.value} on article "
                f"{article.id!r}; waiting for {', '.join(waiting)}"
            )
    consent = ArticleConsent(party=party, member=e.actor, version=e.version, stage=stage, at=e.at)
    consented = replace(article, consents=(*article.consents, consent))
    return replace(talks, articles=_with(talks.articles, article.id, consented))


@_handles(ev.AgreeArticle)
def _agree_article(talks: Talks, e: ev.AgreeArticle) -> Talks:
    return _article_consent(talks, e)


@_handles(ev.InitialArticle)
def _initial_article(talks: Talks, e: ev.InitialArticle) -> Talks:
    return _article_consent(talks, e)


@_handles(ev.SignArticle)
def _sign_article(talks: Talks, e: ev.SignArticle) -> Talks:
    return _article_consent(talks, e)


# --- contact ---------------------------------------------------------------------------------


@_handles(ev.RequestContact)
def _request_contact(talks: Talks, e: ev.RequestContact) -> Talks:
    _fresh(talks, e.request)
    _acting(talks, e)
    party = _actor_party(talks, e.actor)
    _party(talks, e.to_party)
    if e.to_party == party:
        raise ContactInvalid("a party cannot ask itself to open talks")
    if e.via is not None:
        via = _party(talks, e.via)
        if via.role is not Role.MEDIATOR or via.id in (party, e.to_party):
            raise ContactInvalid(f"{e.via} is not a mediator between {party} and {e.to_party}")
    request = ContactRequest(
        id=e.request,
        party=party,
        member=None if _is_root(talks, e.actor) else e.actor,
        to_party=e.to_party,
        via=e.via,
        at=e.at,
        text=e.text,
    )
    return replace(talks, contacts=(*talks.contacts, request))
