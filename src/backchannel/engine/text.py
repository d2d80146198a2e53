"""The negotiating text: articles with bracketed language, and where each article stands.

Square brackets mark language not agreed yet, as diplomats write it: ``[a permanent peace]`` is
contested as a whole; ``[a permanent peace | a truce of 60 days]`` offers alternatives. Brackets
do not nest, and no alternative is blank. An article's status (:class:`ArticleStatus`) is
``bracketed`` while a bracket remains, ``clean`` once none does, and then the furthest stage every
party has reached on its **current** version: an earlier version's consents count for nothing.

:func:`draft` and :func:`consent` are the engine's rules for the text's acts (run after
:func:`checks.authorise`, see :mod:`backchannel.engine.talks`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from backchannel.engine import checks
from backchannel.engine import events as ev
from backchannel.engine.checks import Checked
from backchannel.engine.rules import (
    ACTIONS,
    ARTICLE_NEEDS,
    ARTICLE_STATUS_ORDER,
    ArticleStatus,
    Role,
)
from backchannel.engine.state import Article, ArticleConsent, ArticleVersion, Talks, evolve
from backchannel.errors import (
    TextAwaitingParties,
    TextBracketed,
    TextDuplicate,
    TextFinal,
    TextMalformed,
    TextNotAParty,
    TextNotPenHolder,
    TextStale,
)

OPEN, CLOSE, OR = "[", "]", "|"


@dataclass(frozen=True, slots=True)
class Bracket:
    """Language in square brackets: one contested passage, or alternatives separated by ``|``."""

    alternatives: tuple[str, ...]


#: An article's text: agreed language (a string) and brackets, in order.
Segment = str | Bracket


def parse(text: str) -> tuple[Segment, ...]:
    """The segments of ``text``; :class:`TextMalformed` names the first character at fault.

    Nothing is trimmed, so :func:`render` gives back the very text that was parsed.
    """
    segments: list[Segment] = []
    start, opened = 0, None
    for i, char in enumerate(text):
        if char == OPEN:
            if opened is not None:
                raise TextMalformed(f"a bracket opens inside another at character {i + 1}")
            if i > start:
                segments.append(text[start:i])
            opened = i
        elif char == CLOSE:
            if opened is None:
                raise TextMalformed(f"a bracket closes at character {i + 1} but none is open")
            alternatives = tuple(text[opened + 1 : i].split(OR))
            if any(not a.strip() for a in alternatives):
                raise TextMalformed(
                    f"the bracket at character {opened + 1} holds a blank alternative"
                )
            segments.append(Bracket(alternatives))
            start, opened = i + 1, None
        elif char == OR and opened is None:
            raise TextMalformed(f"'|' separates alternatives inside a bracket (character {i + 1})")
    if opened is not None:
        raise TextMalformed(f"the bracket opened at character {opened + 1} is never closed")
    if start < len(text):
        segments.append(text[start:])
    if not "".join(s for s in segments if isinstance(s, str)).strip() and not any(
        isinstance(s, Bracket) for s in segments
    ):
        raise TextMalformed("an article needs some text")
    return tuple(segments)


def render(segments: tuple[Segment, ...]) -> str:
    """The text the segments were parsed from."""
    return "".join(
        s if isinstance(s, str) else OPEN + OR.join(s.alternatives) + CLOSE for s in segments
    )


def brackets(text: str) -> int:
    """How many brackets ``text`` still holds."""
    return sum(isinstance(s, Bracket) for s in parse(text))


def consenting_parties(talks: Talks) -> list[str]:
    """The parties whose consent the text needs: every party but the mediator."""
    return sorted(p.id for p in talks.parties.values() if p.role is Role.PARTY)


def party_stage(article: Article, party: str) -> ArticleStatus | None:
    """The furthest stage ``party`` reached on the article's current version, if any."""
    version = article.current.number
    reached = [c.stage for c in article.consents if c.party == party and c.version == version]
    return max(reached, key=ARTICLE_STATUS_ORDER.index, default=None)


def waiting_for(talks: Talks, article: Article, stage: ArticleStatus) -> list[str]:
    """The parties that have not reached ``stage`` on the article's current version."""
    rank = ARTICLE_STATUS_ORDER.index(stage)
    return [
        party
        for party in consenting_parties(talks)
        if (reached := party_stage(article, party)) is None
        or ARTICLE_STATUS_ORDER.index(reached) < rank
    ]


def status(talks: Talks, article: Article) -> ArticleStatus:
    """Where the article stands for all parties together."""
    if brackets(article.current.text):
        return ArticleStatus.BRACKETED
    parties = consenting_parties(talks)
    if not parties:
        return ArticleStatus.CLEAN
    reached = [party_stage(article, party) for party in parties]
    if any(stage is None for stage in reached):
        return ArticleStatus.CLEAN
    return min((stage for stage in reached if stage is not None), key=ARTICLE_STATUS_ORDER.index)


def articles(talks: Talks) -> list[Article]:
    """The articles in the order of the text."""
    return sorted(talks.articles.values(), key=lambda a: a.position)


# --- the acts on the text --------------------------------------------------------------------


def draft(talks: Talks, e: ev.DraftArticle, c: Checked) -> Talks:
    """The pen-holder writes a new article, or the next version of one."""
    # The single negotiating text: in mediated talks the mediator alone holds the pen, and the
    # parties' language reaches it as offers; without a mediator any party's drafter does.
    existing = talks.articles.get(e.article)
    if existing is None:
        checks.fresh(talks, e.article, wide=True)
    mediator = talks.mediator
    if mediator is not None and checks.actor_party(talks, e.actor) != mediator.id:
        raise TextNotPenHolder(
            f"{mediator.id} mediates and holds the pen; send your language to it as an offer"
        )
    parse(e.text)
    version = ArticleVersion(number=1, text=e.text, author=e.actor, at=e.at, lang=e.lang)
    if existing is None:
        article = Article(
            id=e.article, title=e.title, position=len(talks.articles) + 1, versions=(version,)
        )
    else:
        if status(talks, existing) is ArticleStatus.SIGNED:
            raise TextFinal(f"every party signed article {e.article!r}; it is final")
        current = existing.current
        if e.text == current.text and e.title in ("", existing.title):
            raise TextDuplicate(f"this draft of {e.article!r} changes nothing")
        article = replace(
            existing,
            title=e.title or existing.title,
            versions=(*existing.versions, replace(version, number=current.number + 1)),
        )
    return evolve(talks, articles=checks.with_item(talks.articles, e.article, article))


def consent(talks: Talks, e: ev.ArticleConsent, c: Checked) -> Talks:
    """A party agrees, initials or signs the current version of an article, in order."""
    if c.sealed:
        return talks  # the article is sealed from this verifier: only authority was checked
    article = checks.get(talks.articles, e.article, "article")
    party = checks.actor_party(talks, e.actor)
    if talks.parties[party].role is Role.MEDIATOR:
        raise TextNotAParty("the mediator holds the pen; only the parties consent to the text")
    if e.version != article.current.number:
        raise TextStale(
            f"article {article.id!r} is at version {article.current.number}, not {e.version}"
        )
    stage = ACTIONS[e.action].stage
    assert isinstance(stage, ArticleStatus)
    needs = ARTICLE_NEEDS[e.action]
    reached = party_stage(article, party)
    rank = ARTICLE_STATUS_ORDER.index
    if reached is not None and rank(reached) >= rank(stage):
        raise TextDuplicate(f"{party} already {reached.value} version {e.version} of {e.article!r}")
    if needs is None:
        left = brackets(article.current.text)
        if left:
            raise TextBracketed(
                f"article {article.id!r} still holds {left} bracket(s); agree it once none is left"
            )
    else:
        waiting = waiting_for(talks, article, needs)
        if waiting:
            raise TextAwaitingParties(
                f"{e.action.value} needs every party at {needs.value} on article "
                f"{article.id!r}; waiting for {', '.join(waiting)}"
            )
    kept = ArticleConsent(party=party, member=e.actor, version=e.version, stage=stage, at=e.at)
    consented = replace(article, consents=(*article.consents, kept))
    return evolve(talks, articles=checks.with_item(talks.articles, article.id, consented))
