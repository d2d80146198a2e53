"""Read-side questions about a talks: who can read what, who asked first, what a member sees,
how far each party has consented to an offer, the words a consent binds, and the talks-wide state
every device holds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from backchannel.engine import events as ev
from backchannel.engine.rules import ACTIONS, STAGE_ORDER, RelayMode, Stage, Words
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
    first = next(iter(talks.requests.values()), None)
    if first is None:
        return None
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


def words(talks: Talks, event: ev.Event) -> str | None:
    """The exact words a consent act consents to, as this view holds them; None for an act that
    is not a consent, or whose offer copy or article version this view does not hold.

    An offer's consent binds the text of the copy it names; an article's consent the text of the
    version it names (even a superseded one: the act is then refused, but for what it said)."""
    match ACTIONS[event.action].words, event:
        case Words.OFFER, ev.Accept() | ev.Sign() | ev.Confirm():
            copy = talks.messages.get(event.proposal)
            return None if copy is None else copy.text
        case Words.ARTICLE, ev.AgreeArticle() | ev.InitialArticle() | ev.SignArticle():
            article = talks.articles.get(event.article)
            if article is None or not 1 <= event.version <= len(article.versions):
                return None
            return article.versions[event.version - 1].text
    return None


def shared_state(talks: Talks) -> dict[str, Any]:
    """The talks-wide state as plain JSON values: parties, members, devices, mandates, the
    negotiating text and the agenda parties score. Only talks-wide acts
    (:data:`rules.TALKS_WIDE`) build it and their rules read nothing else, so two devices
    holding the same record prefix hold the same value."""

    def when(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat()

    shared: dict[str, Any] = {
        "parties": {p.id: [p.role.value, p.name] for p in talks.parties.values()},
        "members": {m.id: [m.party, m.name] for m in talks.members.values()},
        "devices": {
            d.id: [d.member, d.fingerprint, when(d.revoked_at)] for d in talks.devices.values()
        },
        "grants": {
            g.id: [
                g.member,
                g.level.label,
                g.grantor,
                when(g.at),
                when(g.expires),
                when(g.revoked_at),
            ]
            for g in talks.grants.values()
        },
        "articles": {
            a.id: {
                "title": a.title,
                "position": a.position,
                "versions": [[v.number, v.text, v.author, when(v.at), v.lang] for v in a.versions],
                "consents": [
                    [k.party, k.member, k.version, k.stage.value, when(k.at)] for k in a.consents
                ],
            }
            for a in talks.articles.values()
        },
    }
    if talks.agenda is not None:  # only once set: older talks keep their digests
        shared["agenda"] = {
            "version": talks.agenda.version,
            "issues": [[i.id, i.name, list(i.options)] for i in talks.agenda.issues],
        }
    return shared
