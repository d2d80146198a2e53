"""Per-recipient copies of a text, and tracing a leaked copy back to the copy it came from.

A copy is marked in the spaces between its words: at some of them a no-break space (U+00A0)
stands for the plain space. It looks the same on screen and in print and keeps the words the
parties agreed, which a canary trap that changed the wording would not: the negotiating text is one
text. Whether the space between two words is marked for a recipient is decided by a keyed hash
(BLAKE2b through libsodium, keyed with the issuer's secret) of the recipient and those two words,
for about one space in four. So:

- marking needs no list of what was issued, and any excerpt can be traced, of any version;
- without the key nobody can tell marks from chance, or make another recipient's copy;
- a copy not issued to that recipient agrees with the leak by chance at a marked space with
  probability 1/4 and at a plain one with 3/4, so a leak with ``m`` marks among ``n`` spaces
  matches it everywhere with probability (1/4)ᵐ (3/4)ⁿ⁻ᵐ.

What removes the marks: retyping, OCR, and tools that turn no-break spaces into spaces (NFKC
normalisation does). A leak with no no-break space left is reported as carrying no marks. Two
recipients who compare their copies can find the marked spaces; see ``docs/security.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

#: The mark, and the plain space it stands for.
MARK, SPACE = "\u00a0", " "
#: One hash byte below this marks a space: one in four.
_THRESHOLD = 64
_P_MARK = _THRESHOLD / 256
#: A trace names a recipient only when every other copy would match this well by chance less
#: often than this, all recipients together.
IDENTIFY_BELOW = 1e-6
_PERSON = b"bc-watermark-v1"
_WORDS = re.compile(r"(\S+)([ \u00a0]?)")


class Verdict(StrEnum):
    """What a trace concluded."""

    IDENTIFIED = "identified"  # one copy matches every observed space, and chance cannot explain it
    INCONCLUSIVE = "inconclusive"  # too few spaces, or several copies match as well
    NO_MARKS = "no-marks"  # no no-break space left: retyped or normalised
    NO_MATCH = "no-match"  # no recipient's copy matches: altered, or not issued with this key


@dataclass(frozen=True, slots=True)
class Match:
    """How one recipient's copy compares with the leak."""

    recipient: str
    agreeing: int
    observed: int

    @property
    def disagreeing(self) -> int:
        """Observed spaces where this copy differs from the leak."""
        return self.observed - self.agreeing


@dataclass(frozen=True, slots=True)
class Trace:
    """A leak compared with every candidate's copy, best first."""

    verdict: Verdict
    matches: tuple[Match, ...]
    observed: int  # single spaces between words in the leak
    marks: int  # of those, no-break spaces
    chance: float  # how likely another copy matches the best one's agreement by chance

    @property
    def recipient(self) -> str | None:
        """The recipient identified, if any."""
        return self.matches[0].recipient if self.verdict is Verdict.IDENTIFIED else None


def _marked(key: bytes, recipient: str, left: str, right: str) -> bool:
    data = "\x00".join((recipient, left, right)).encode("utf-8")
    digest = blake2b(data, digest_size=16, key=key, person=_PERSON, encoder=RawEncoder)
    return digest[0] < _THRESHOLD


def _gaps(text: str) -> list[tuple[re.Match[str], re.Match[str]]]:
    """Each single space (plain or no-break) between two words: the word before it, and after."""
    words = list(_WORDS.finditer(text))
    return [
        (this, following)
        for this, following in pairwise(words)
        if this.group(2) and following.start() == this.end()
    ]


def mark(text: str, key: bytes, recipient: str) -> str:
    """``recipient``'s copy of ``text``: each single space between two words becomes plain or
    no-break as the key says for that recipient (a no-break space in the source included, so no
    copy carries a mark that is not its own); everything else is unchanged."""
    if len(key) < 16:
        raise ValueError("a watermark key has at least 16 bytes")
    out: list[str] = []
    last = 0
    for this, following in _gaps(text):
        out.append(text[last : this.start(2)])
        out.append(MARK if _marked(key, recipient, this.group(1), following.group(1)) else SPACE)
        last = this.end(2)
    out.append(text[last:])
    return "".join(out)


def trace(leaked: str, key: bytes, recipients: Iterable[str]) -> Trace:
    """Compare ``leaked`` (a copy or an excerpt) with each recipient's copy."""
    # The leak's first and last words may be cut in half by an excerpt: their spaces do not count.
    words = list(_WORDS.finditer(leaked))
    ends = {words[0].start(), words[-1].start()} if words else set()
    # A pair of words met twice is one piece of evidence, not two: its mark is the same each time.
    spaces = list(
        dict.fromkeys(
            (this.group(1), this.group(2), following.group(1))
            for this, following in _gaps(leaked)
            if this.start() not in ends and following.start() not in ends
        )
    )
    marks = sum(space == MARK for _, space, _ in spaces)
    matches = sorted(
        (
            Match(
                recipient=r,
                agreeing=sum(
                    _marked(key, r, left, right) == (space == MARK) for left, space, right in spaces
                ),
                observed=len(spaces),
            )
            for r in dict.fromkeys(recipients)
        ),
        key=lambda m: (-m.agreeing, m.recipient),
    )
    others = max(len(matches) - 1, 1)
    chance = min(1.0, others * _P_MARK**marks * (1 - _P_MARK) ** (len(spaces) - marks))
    perfect = [m for m in matches if m.observed and m.disagreeing == 0]
    if not marks:
        verdict = Verdict.NO_MARKS
    elif not perfect:
        verdict = Verdict.NO_MATCH
    elif len(perfect) == 1 and chance < IDENTIFY_BELOW:
        verdict = Verdict.IDENTIFIED
    else:
        verdict = Verdict.INCONCLUSIVE
    return Trace(verdict, tuple(matches), len(spaces), marks, chance)
