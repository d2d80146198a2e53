"""Record entries: a commitment, recipient tags and the host's time split only one way."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel.errors import EntryMalformed
from backchannel.record.entry import MAX_TAGS, Entry, check_entry, stamp

commitments = st.binary(min_size=32, max_size=32)
tag_lists = st.lists(st.binary(min_size=16, max_size=16), max_size=MAX_TAGS, unique=True)
times = st.integers(min_value=0, max_value=2**63 - 1)


@given(commitments, tag_lists, times)
def test_a_stamped_entry_parses_back_to_its_parts(
    commitment: bytes, tags: list[bytes], at: int
) -> None:
    """stamp then parse gives the commitment, every tag and the time the host wrote."""
    entry = Entry.parse(stamp(commitment + b"".join(tags), at))
    assert entry == Entry(commitment, frozenset(tags), at)


@given(st.binary(max_size=32 + 16 * (MAX_TAGS + 2)))
def test_any_other_length_is_refused_with_a_code(raw: bytes) -> None:
    """Only 32 + 16k bytes (k at most 256) are an entry; anything else is EntryMalformed."""
    valid = len(raw) >= 32 and (len(raw) - 32) % 16 == 0 and (len(raw) - 32) // 16 <= MAX_TAGS
    if valid:
        assert check_entry(raw) == raw
    else:
        with pytest.raises(EntryMalformed):
            check_entry(raw)


@given(st.binary(max_size=39))
def test_a_leaf_too_short_for_a_time_is_refused(raw: bytes) -> None:
    """A leaf shorter than a commitment and a time is not an entry."""
    with pytest.raises(EntryMalformed):
        Entry.parse(raw)


def test_a_time_outside_the_range_is_refused() -> None:
    """The host's time is non-negative and fits in 63 bits."""
    for bad in (-1, 2**63):
        with pytest.raises(EntryMalformed):
            stamp(bytes(32), bad)
