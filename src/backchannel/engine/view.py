"""Read-side questions about a talks: who can read what, who asked first, what a member sees, and
how far each party has consented to an offer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from backchannel.engine.rules import STAGE_ORDER, RelayMode, Stage
from backchannel.engine.state import Message, Talks


@dataclass(frozen=True, slots=True)
class Initiator:
    """The first contact request: which party, which member, when, and through whom."""

    party: str
    member: str | None
    at: datetime
    via: str | None
    request: str
    to_party: str


def initiator(talks: Talks) -> Initiator | None:
    """Who asked first to open talks (the earliest contact request in event order), if anyone."""
    if not talks.contacts:
        return None
    first = talks.contacts[0]
    return Initiator(
        party=first.party,
        member=first.member,
        at=first.at,
        via=first.via,
        request=first.id,
        to_party=first.to_party,
    )


def visibility(talks: Talks) -> dict[str, list[str]]:
    """Message id → the sorted member ids that can read it."""
    return {m.id: sorted(m.readers) for m in talks.messages.values()}


def messages_for(talks: Talks, member: str) -> list[Message]:
    """The messages ``member`` can read, in order, as it sees them.

    A gist relay's link to its source is the mediator's knowledge: a reader who could not read the
    source sees the gist without the link, so the original is not even named to it.
    """
    seen: list[Message] = []
    for message in talks.messages.values():
        if member not in message.readers:
            continue
        if message.relay is RelayMode.GIST and message.source is not None:
            source = talks.messages.get(message.source)
            if source is None or member not in source.readers:
                message = replace(message, source=None)
        seen.append(message)
    return seen


def stage(talks: Talks, proposal: str, party: str) -> Stage | None:
    """How far ``party`` has consented to the offer ``proposal`` (its original id), if at all."""
    reached = [
        Stage.SIGNED if c.signed else Stage.AGREED_AD_REF
        for c in talks.consents
        if c.proposal == proposal and c.party == party
    ]
    reached += [
        Stage.CONFIRMED for c in talks.confirmations if c.proposal == proposal and c.party == party
    ]
    return max(reached, key=STAGE_ORDER.index, default=None)
