"""The negotiating text: articles with bracketed language, and where each article stands.

Square brackets mark language not agreed yet, as diplomats write it: ``[a permanent peace]`` is
contested as a whole; ``[a permanent peace | a truce of 60 days]`` offers alternatives. Brackets
do not nest, and no alternative is blank. An article's status (:class:`ArticleStatus`) is
``bracketed`` while a bracket remains, ``clean`` once none does, and then the furthest stage every
party has reached on its **current** version: an earlier version's consents count for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from backchannel.engine.rules import ARTICLE_STATUS_ORDER, ArticleStatus, Role
from backchannel.engine.state import Article, Talks
from backchannel.errors import TextMalformed

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
