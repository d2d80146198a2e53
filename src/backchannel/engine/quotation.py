"""Whether one text quotes another: what keeps a gist, or the negotiating text, from repeating
words the mediator was told not to repeat verbatim.

Words are compared loosely (Unicode word characters, case-folded; punctuation and spacing
ignored), so re-punctuating a sentence does not hide it. A quotation is a run of at least
:data:`MIN_WORDS` consecutive words of the source, or the whole source when it is shorter but
has at least :data:`SHORTEST` words; a source of fewer words is too short to tell a quotation
from common phrasing ("the parties shall").
"""

from __future__ import annotations

import re

from backchannel.engine.rules import Label, RelayMode
from backchannel.engine.state import Message, Talks

MIN_WORDS = 8
SHORTEST = 4
_WORD = re.compile(r"\w+")

#: Labels whose words the mediator may not repeat verbatim outside their room.
CONFIDENTIAL = frozenset({Label.MEDIATOR_ONLY, Label.CARRY_GIST})


def words(text: str) -> list[str]:
    """The text's words as compared: word characters only, case-folded."""
    return [w.casefold() for w in _WORD.findall(text)]


def quoted(text: str, source: str) -> str | None:
    """The run of ``source``'s words that ``text`` repeats verbatim, or None."""
    theirs = words(source)
    length = min(MIN_WORDS, len(theirs))
    if length < SHORTEST:
        return None
    runs = {tuple(theirs[i : i + length]) for i in range(len(theirs) - length + 1)}
    ours = words(text)
    for i in range(len(ours) - length + 1):
        run = tuple(ours[i : i + length])
        if run in runs:
            return " ".join(run)
    return None


def confidential_quote(talks: Talks, text: str) -> tuple[Message, str] | None:
    """A message of ``talks`` whose words may not leave its room that ``text`` quotes, and the
    words quoted; None when there is none.

    Mediator-only and carry-gist messages count, whoever wrote them; a gist relay does not, since
    its words are already the mediator's own, written to be carried.
    """
    for message in talks.messages.values():
        if message.label not in CONFIDENTIAL or message.relay is RelayMode.GIST:
            continue
        run = quoted(text, message.text)
        if run is not None:
            return message, run
    return None
