"""The rules of speaking in rooms: messages, offers, relays between rooms, and consent to offers.

Each handler runs after :func:`checks.authorise` (the actor may act, at this place in the
record) and applies the action's own rules; see :mod:`backchannel.engine.talks`.
"""

from __future__ import annotations

from backchannel.engine import checks, quotation
from backchannel.engine import events as ev
from backchannel.engine.checks import Checked
from backchannel.engine.rules import LABELS, PRIVATE_ROOM_KINDS, Label, RelayMode
from backchannel.engine.state import Confirmation, Consent, Message, Talks, evolve
from backchannel.errors import (
    ConfirmNotAccepted,
    ConfirmRepeated,
    NotRoomMember,
    ProposalInvalid,
    RelayLabelForbids,
    RelayNeedsOwnWords,
    RelayNotMediator,
    RelaySameRoom,
    SendLabelForbids,
)


def post(talks: Talks, e: ev.Send | ev.Propose, c: Checked) -> Talks:
    """A message or an offer in a room the actor is in, under a label the room allows."""
    room = checks.room(talks, e.room)
    checks.fresh(talks, e.message, wide=False)
    checks.in_room(room, e.actor)
    if LABELS[e.label].private_only and room.kind not in PRIVATE_ROOM_KINDS:
        raise SendLabelForbids(
            f"a {e.label.value} message cannot be sent in {room.kind.value} room {room.id!r}, "
            "where other parties listen"
        )
    message = Message(
        id=e.message,
        room=room.id,
        author=e.actor,
        at=e.at,
        text=e.text,
        label=e.label,
        readers=checks.readers(talks, room, c.at),
        lang=e.lang,
        proposal=isinstance(e, ev.Propose),
    )
    return evolve(talks, messages=checks.with_item(talks.messages, e.message, message))


def _check_mediator(talks: Talks, actor: str) -> None:
    if actor in talks.parties or not checks.for_mediator(talks, actor):
        raise RelayNotMediator("only a member of the mediator's delegation relays between rooms")


def _check_mode(label: Label, mode: RelayMode, what: str) -> None:
    if mode not in LABELS[label].relay_modes:
        raise RelayLabelForbids(
            f"message {what} is labelled {label.value}; it may not be relayed {mode.value}"
        )


def relay(talks: Talks, e: ev.Relay, c: Checked) -> Talks:
    """The mediator carries a message it read into another room it is in, as its label allows."""
    _check_mediator(talks, e.actor)
    source = checks.message(talks, e.source)
    target = checks.room(talks, e.room)
    checks.fresh(talks, e.message, wide=False)
    if e.actor not in source.readers:
        raise NotRoomMember(f"{e.actor} did not receive message {source.id!r} and cannot carry it")
    checks.in_room(checks.room(talks, source.room), e.actor)
    checks.in_room(target, e.actor)
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
        readers=checks.readers(talks, target, c.at),
        lang=lang,
        proposal=source.proposal and e.mode is RelayMode.VERBATIM,
        relay=e.mode,
        source=source.id,
        relayed_by=e.actor,
    )
    return evolve(talks, messages=checks.with_item(talks.messages, e.message, message))


def carry(talks: Talks, e: ev.Carry, c: Checked) -> Talks:
    """A relay as its target room's readers receive it (see :class:`events.Carry`)."""
    _check_mediator(talks, e.actor)
    target = checks.room(talks, e.room)
    checks.fresh(talks, e.message, wide=False)
    checks.in_room(target, e.actor)
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
        author = checks.member(talks, e.original_author).id
    message = Message(
        id=e.message,
        room=target.id,
        author=author,
        at=e.at,
        text=e.text,
        label=e.label,
        readers=checks.readers(talks, target, c.at),
        lang=e.lang,
        proposal=e.proposal and e.mode is RelayMode.VERBATIM,
        relay=e.mode,
        source=e.source,
        relayed_by=e.actor,
    )
    return evolve(talks, messages=checks.with_item(talks.messages, e.message, message))


def origin(talks: Talks, message: str) -> tuple[str, Message]:
    """The id of the original of ``message`` and the closest copy of it this talks holds.

    Verbatim relays are followed back to where the words were first said; a device that never
    saw the original (it was in another room) stops at its carried copy, which names the original.
    """
    found = checks.message(talks, message)
    original = found.id
    while found.relay is RelayMode.VERBATIM and found.source is not None:
        original = found.source
        earlier = talks.messages.get(found.source)
        if earlier is None:
            break
        found = earlier
    return original, found


def consent(talks: Talks, e: ev.Accept | ev.Sign, c: Checked) -> Talks:
    """A party accepts an offer ad referendum, or signs it, on the copy it received."""
    party = checks.actor_party(talks, e.actor)
    signed = isinstance(e, ev.Sign)
    if c.sealed:
        # The offer is sealed from this verifier: the consent stands on the copy it names.
        kept = Consent(
            proposal=e.proposal,
            party=party,
            member=e.actor,
            at=e.at,
            signed=signed,
            copy=e.proposal,
        )
        return evolve(talks, consents=(*talks.consents, kept))
    # Decidable from the named copy alone, so every device that receives the act (the readers of
    # that copy) reaches the same verdict; the order of consents (accept before sign) belongs to
    # the negotiating text, which every party sees.
    seen = checks.message(talks, e.proposal)
    if e.actor not in seen.readers:
        raise NotRoomMember(f"{e.actor} has not received {seen.id!r}")
    offer_id, offer = origin(talks, e.proposal)
    if not offer.proposal:
        raise ProposalInvalid(
            f"{seen.id!r} is not an offer (a gist is the mediator's words; accept the original)"
        )
    if not signed and party == talks.members[offer.author].party:
        raise ProposalInvalid(f"{party} made offer {offer_id!r}; it cannot accept its own")
    kept = Consent(
        proposal=offer_id, party=party, member=e.actor, at=e.at, signed=signed, copy=seen.id
    )
    return evolve(talks, consents=(*talks.consents, kept))


def confirm(talks: Talks, e: ev.Confirm, c: Checked) -> Talks:
    """A party's root confirms what its member accepted ad referendum on the same copy."""
    # The acceptance must name the same copy: its readers, who receive the confirmation, received
    # that acceptance (and any earlier confirmation), so each of them reaches the same verdict.
    copy = e.proposal if c.sealed else checks.message(talks, e.proposal).id
    accepted = talks.acceptance(e.actor, copy)
    if accepted is None:
        raise ConfirmNotAccepted(
            f"no member of {e.actor} accepted {copy!r} ad referendum before: nothing to confirm"
        )
    if any(k.party == e.actor and k.copy == copy for k in talks.confirmations):
        raise ConfirmRepeated(f"{e.actor} already confirmed its acceptance of {copy!r}")
    confirmation = Confirmation(
        proposal=accepted.proposal, copy=copy, party=e.actor, member=accepted.member, at=e.at
    )
    return evolve(talks, confirmations=(*talks.confirmations, confirmation))
