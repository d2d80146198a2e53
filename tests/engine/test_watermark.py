"""Per-recipient copies: marks only in the spaces, and a leak traced back to its copy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.engine import watermark
from backchannel.engine.watermark import MARK, SPACE, Verdict

KEY = bytes(range(32))
PEOPLE = ["mcgurk", "us-notetaker", "bagheri", "oman-envoy", "larijani"]

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzأبتثجحخ،.[]|", min_size=1, max_size=9)
separators = st.sampled_from([SPACE, SPACE, SPACE, MARK, "  ", "\n", " \n"])
texts = st.lists(st.tuples(words, separators), max_size=60).map(
    lambda parts: "".join(w + s for w, s in parts)
)
#: Long texts of distinct words, as a negotiating text mostly is.
long_texts = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10),
    min_size=120,
    max_size=160,
    unique=True,
).map(" ".join)


@given(texts, st.sampled_from(PEOPLE))
def test_a_copy_differs_only_in_the_spaces_between_words(text: str, person: str) -> None:
    """Words, punctuation, line breaks and length stay; only plain and no-break spaces trade."""
    copy = watermark.mark(text, KEY, person)
    assert len(copy) == len(text)
    assert copy.replace(MARK, SPACE) == text.replace(MARK, SPACE)
    assert watermark.mark(copy, KEY, person) == copy  # marking is idempotent
    assert watermark.mark(text, KEY, person) == copy  # and deterministic


@given(texts, st.sampled_from(PEOPLE))
def test_every_copy_matches_its_own_recipient_fully(text: str, person: str) -> None:
    """Whatever the text, the recipient's own copy disagrees with it nowhere."""
    traced = watermark.trace(watermark.mark(text, KEY, person), KEY, PEOPLE)
    own = next(m for m in traced.matches if m.recipient == person)
    assert own.disagreeing == 0
    assert traced.matches[0].agreeing == own.agreeing  # nobody ranks above it


@settings(max_examples=40)
@given(long_texts, st.sampled_from(PEOPLE), st.integers(0, 40), st.integers(60, 120))
def test_a_long_enough_excerpt_names_its_recipient(
    text: str, person: str, start: int, length: int
) -> None:
    """An excerpt of 60+ words, cut anywhere (mid-word too), is traced to its one recipient."""
    copy = watermark.mark(text, KEY, person)
    cut = copy[start * 5 : start * 5 + length * 7]
    traced = watermark.trace(cut, KEY, PEOPLE)
    assert traced.verdict is Verdict.IDENTIFIED, traced
    assert traced.recipient == person
    assert traced.chance < watermark.IDENTIFY_BELOW


@settings(max_examples=20)
@given(long_texts, st.sampled_from(PEOPLE))
def test_marks_removed_or_another_key_never_name_anyone(text: str, person: str) -> None:
    """Normalised spaces carry no marks; a copy marked under another key matches nobody."""
    copy = watermark.mark(text, KEY, person)
    stripped = watermark.trace(copy.replace(MARK, SPACE), KEY, PEOPLE)
    assert (stripped.verdict, stripped.recipient, stripped.marks) == (Verdict.NO_MARKS, None, 0)
    foreign = watermark.trace(watermark.mark(text, bytes(32), person), KEY, PEOPLE)
    assert foreign.verdict is Verdict.NO_MATCH and foreign.recipient is None


def test_copies_of_different_recipients_differ() -> None:
    """Two recipients' copies of one article differ, and each traces to its own recipient."""
    article = (
        "Attacks on commercial shipping in the Red Sea cease from the date of this understanding, "
        "and the parties consult through Oman on any incident at sea or on land, in writing, "
        "within seven days of it, and report what they agreed to each other and to the mediator."
    )
    copies = {p: watermark.mark(article, KEY, p) for p in PEOPLE}
    assert len(set(copies.values())) == len(PEOPLE)
    for person, copy in copies.items():
        assert watermark.trace(copy, KEY, PEOPLE).matches[0].recipient == person


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        watermark.mark("a b", b"short", "x")
