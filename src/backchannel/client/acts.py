"""Signed acts: which events are signed, what the signature covers, and checking what arrives.

Formal acts (:data:`rules.ACTIONS` ``formal``) and words their author lets the mediator carry
verbatim (:data:`rules.LABELS` ``signed``) travel signed with the actor's identity key; other
words stay deniable. The signature covers the **host's talks id**, the encoded act (whose
``action`` names its kind) and, for a consent, the digest of the exact words it consents to
(:func:`engine.words`: the offer copy's text, the article version's text), so an act is valid in
no other talks and for no other words (:class:`~backchannel.crypto.signed.SignedAct`).

What a device checks of an event item comes in two parts:

- :func:`check_received`, when it arrives: the sending device may act as the event's actor, the
  signature verifies, and a verbatim carry brings its original signed by its author, word for
  word;
- :func:`check_placed`, when the record's order reaches it: the words a consent's signature binds
  are the words this device holds for what it names there (``consent.words_differ``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from backchannel import engine
from backchannel.client.directory import Peer
from backchannel.client.wire import EventItem, Original
from backchannel.crypto import Identity, SignedAct, sign_act, verify_act, words_digest
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import ACTIONS, LABELS, RelayMode
from backchannel.errors import BackchannelError, RelayUnverified, RuleViolation, WordsDiffer

#: Words that may be signed: a message or offer under a label whose words are signed.
SIGNED_WORDS = (ev.Send, ev.Propose)
#: Projections that name an act's record entry and cannot open it: a deposit's, a match's, a
#: party's scores'.
NOTICES = (ev.DepositNotice, ev.MatchNotice, ev.ScoresNotice)


def signed(event: ev.Event) -> bool:
    """Whether ``event`` travels with its actor's signature."""
    if isinstance(event, SIGNED_WORDS):
        return LABELS[event.label].signed
    return ACTIONS[event.action].formal


def words_of(view: engine.Talks, event: ev.Event) -> bytes | None:
    """The digest of the words a consent binds in ``view``; None for other acts.

    :class:`RuleViolation` if ``event`` is a consent and ``view`` holds no such words.
    """
    if ACTIONS[event.action].words is None:
        return None
    words = engine.words(view, event)
    if words is None:
        raise RuleViolation(f"this device holds no words for {event.action.value} to consent to")
    return words_digest(words)


def sign(identity: Identity, talks: str, view: engine.Talks, event: ev.Event) -> EventItem:
    """The item carrying ``event``: signed for ``talks`` and its words if it is signed."""
    if isinstance(event, NOTICES):
        raise RuleViolation("a notice is what other devices receive of a sealed act: send that")
    encoded = codec.encode(event)
    if not signed(event):
        return EventItem(event=encoded)
    words = words_of(view, event)
    return EventItem(
        event=encoded, signature=sign_act(identity, talks, encoded, words).signature, words=words
    )


def original_of(items: Iterable[EventItem], message: str) -> Original:
    """The signed original of ``message`` among the items a device received or sent (the
    latest first): its signed send, or the original a verbatim carry of it brought."""
    for item in reversed(list(items)):
        event = codec.decode(item.event)
        signed_words = isinstance(event, SIGNED_WORDS) and event.message == message
        if signed_words and item.signature is not None:
            return Original(item.event, item.signature)
        if isinstance(event, ev.Carry) and event.message == message and item.original:
            return item.original
    raise RelayUnverified(f"this device holds no signed original of {message}")


def check_received(
    talks: str,
    item: EventItem,
    sender: Peer,
    identity_of: Callable[[str], bytes],
) -> ev.Event:
    """The item's event, once the sender may act as its actor and its signatures verify."""
    event = codec.decode(item.event)
    if item.forwarded:
        # Only signed acts are forwarded, and they prove their actor by signature; or, in a
        # backlog, a deposit's notice in place of a deposit the newcomer may not read.
        if not signed(event) and not isinstance(event, NOTICES):
            raise RuleViolation("only signed acts can be forwarded")
    elif event.actor not in sender.actors() or (
        event.actor == sender.member and event.device not in (None, sender.engine_device)
    ):
        raise RuleViolation(f"device {sender.host_device} may not act as {event.actor}")
    if signed(event):
        if item.signature is None:
            raise RuleViolation(f"{event.action.value} by {event.actor} travels unsigned")
        if (item.words is None) != (ACTIONS[event.action].words is None):
            raise RuleViolation(f"{event.action.value} names no words, or names words it may not")
        key = identity_of(event.actor)
        verify_act(SignedAct(talks, dict(item.event), item.words, key, item.signature), key)
    elif item.signature is not None or item.words is not None:
        raise RuleViolation("deniable words carry no signature")
    if isinstance(event, NOTICES) and item.commitment is None:
        # Only as a projection naming a deposit's (a match's, scores') entry: a notice of its own
        # would seal a deposit (or scores) from the mediator too, and nothing could be computed.
        raise RuleViolation("a notice travels only in place of the act it stands for")
    if isinstance(event, ev.Carry) and event.mode is RelayMode.VERBATIM:
        check_original(talks, event, item.original, identity_of)
    elif item.original is not None:
        raise RuleViolation("only a verbatim carry brings an original")
    return event


def check_original(
    talks: str,
    carry: ev.Carry,
    original: Original | None,
    identity_of: Callable[[str], bytes],
) -> None:
    """A verbatim carry must bring its original, signed by its author, word for word."""
    if original is None:
        raise RelayUnverified(f"verbatim carry {carry.message} lacks its signed original")
    source = codec.decode(original.event)
    if not isinstance(source, SIGNED_WORDS) or (
        source.message,
        source.actor,
        source.text,
        source.label,
    ) != (carry.source, carry.original_author, carry.text, carry.label):
        raise RelayUnverified(f"verbatim carry {carry.message} differs from its original")
    try:
        key = identity_of(source.actor)
        verify_act(SignedAct(talks, dict(original.event), None, key, original.signature), key)
    except BackchannelError as exc:
        raise RelayUnverified(
            f"the original of {carry.message} is not signed by {source.actor}"
        ) from exc


def check_placed(view: engine.Talks, event: ev.Event, item: EventItem) -> None:
    """At the act's place in the record: a consent's words are the words it names there."""
    if ACTIONS[event.action].words is None:
        return
    words = engine.words(view, event)
    if words is not None and words_digest(words) != item.words:
        raise WordsDiffer(
            f"{event.actor}'s {event.action.value} is signed for other words than those it "
            "names in these talks"
        )
