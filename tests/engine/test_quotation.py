"""Quotations: a gist or a draft may not repeat words that may not leave their room."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine import quotation
from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import RelayNeedsOwnWords
from tests.engine.talks_builder import at, build

SOURCE = "We cannot restrain every group in Yemen, and we will not promise it."


def test_a_run_of_eight_words_is_a_quotation_whatever_the_case_and_punctuation() -> None:
    """Case, punctuation and spacing do not hide a quotation; seven shared words are not one."""
    found = quotation.quoted("They said: WE CANNOT restrain every group; in Yemen, and so", SOURCE)
    assert found == "we cannot restrain every group in yemen and"
    assert quotation.quoted("We cannot restrain every group in Yemen.", SOURCE) is None
    assert quotation.quoted("They cannot restrain all the groups in Yemen.", SOURCE) is None


def test_a_short_source_counts_whole_and_a_very_short_one_not_at_all() -> None:
    """A source of four to seven words is quoted when repeated whole; three words never are."""
    assert quotation.quoted("Note: we accept sixty days.", "We accept sixty days") == (
        "we accept sixty days"
    )
    assert quotation.quoted("The parties shall", "the parties shall") is None
    arabic = "نحن لا نسيطر على هذه"
    assert quotation.quoted("قالوا: نحن لا نسيطر على هذه الجماعات", arabic) == arabic


vocabulary = st.sampled_from([f"w{i}" for i in range(40)])
other_words = st.sampled_from([f"x{i}" for i in range(40)])


@given(
    st.lists(vocabulary, min_size=8, max_size=30),
    st.data(),
    st.lists(other_words, max_size=10),
    st.lists(other_words, max_size=10),
)
def test_any_eight_word_run_is_found_and_foreign_words_never(
    source: list[str], data: st.DataObject, before: list[str], after: list[str]
) -> None:
    """Any eight consecutive words of the source, anywhere in a text, are found; a text of
    other words is never flagged."""
    start = data.draw(st.integers(0, len(source) - 8), label="start")
    text = " ".join([*before, *source[start : start + 8], *after])
    assert quotation.quoted(text, " ".join(source)) is not None
    assert quotation.quoted(" ".join([*before, *after]), " ".join(source)) is None


def _gist(source: str, words: str, when: float) -> ev.Relay:
    return ev.Relay(
        at=at(when),
        actor="om1",
        message=f"gist-{when}",
        source=source,
        room="us-caucus",
        mode=RelayMode.GIST,
        text=words,
    )


def test_a_gist_of_a_carry_gist_message_may_not_quote_it() -> None:
    """relay.gist_needs_text when a gist repeats eight words of a carry-gist original. A
    carry-verbatim original may be quoted in a gist: it could have been carried whole."""
    talks = build(
        [
            ev.Send(
                at=at(1),
                actor="ir1",
                message=name,
                room="iran-caucus",
                text=SOURCE,
                label=label,
            )
            for name, label in (("g", Label.CARRY_GIST), ("v", Label.CARRY_VERBATIM))
        ]
    )
    quoting = "Iran says: we cannot restrain every group in Yemen, and that is all."
    with pytest.raises(RelayNeedsOwnWords, match="cannot restrain every group") as caught:
        engine.apply(talks, _gist("g", quoting, 2))
    assert caught.value.code == "relay.gist_needs_text"
    assert engine.apply(talks, _gist("v", quoting, 2)).messages["gist-2"].text == quoting
    own = engine.apply(talks, _gist("g", "Iran says it cannot control the groups.", 3))
    assert own.messages["gist-3"].relay is RelayMode.GIST
