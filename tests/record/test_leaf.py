"""Leaf commitments and the canonical event encoding: the commitment opens only with the right
salt and event; the encoding ignores key order, normalises to NFC and refuses ambiguous values."""

from __future__ import annotations

import hashlib
import json
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from backchannel.errors import EventNotCanonical, InputError
from backchannel.record.leaf import canonical_event, commit, opens

SAFE = 2**53 - 1
scalars = st.none() | st.booleans() | st.integers(-SAFE, SAFE) | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
events = st.dictionaries(st.text(max_size=8), values, max_size=6)
salts = st.binary(min_size=32, max_size=32)


def test_canonical_form_by_example() -> None:
    """Sorted keys, no whitespace, UTF-8 (not \\u escapes), JSON literals and escapes."""
    event = {"b": [1, True, None], "a": 'كلمة\n"q"', "é": {"z": 0, "y": -5}}
    expected = '{"a":"كلمة\\n\\"q\\"","b":[1,true,null],"é":{"y":-5,"z":0}}'
    assert canonical_event(event) == expected.encode("utf-8")


def test_keys_sort_by_utf16_code_units_as_jcs() -> None:
    """A key above U+FFFF sorts before U+FF61 by UTF-16 units, as RFC 8785 requires."""
    assert canonical_event({"\uff61": 1, "\U0001f600": 2}) == '{"😀":2,"｡":1}'.encode()


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from('"\\\x00\x1f\x7f\u2028')))
def test_strings_are_written_as_jcs_writes_them(text: str) -> None:
    """Any string, escapes and controls included, is written as JCS writes its NFC form (for
    strings, ``json.dumps`` without ASCII escaping is exactly JCS)."""
    expected = json.dumps(unicodedata.normalize("NFC", text), ensure_ascii=False)
    assert canonical_event({"k": text}) == f'{{"k":{expected}}}'.encode()


@given(events, st.randoms(use_true_random=False))
def test_encoding_ignores_key_order(event: dict[str, object], rnd: object) -> None:
    """Reordering an event's keys never changes its canonical bytes."""
    items = list(event.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    try:
        expected = canonical_event(event)
    except EventNotCanonical:
        return
    assert canonical_event(dict(items)) == expected


@given(events)
def test_encoding_is_nfc_stable(event: dict[str, object]) -> None:
    """Decomposing every string (NFD) gives the same bytes, and the output is already NFC."""

    def nfd(value: object) -> object:
        if isinstance(value, str):
            return unicodedata.normalize("NFD", value)
        if isinstance(value, list):
            return [nfd(v) for v in value]
        if isinstance(value, dict):
            return {nfd(k): nfd(v) for k, v in value.items()}
        return value

    try:
        expected = canonical_event(event)
    except EventNotCanonical:
        return
    decomposed = nfd(event)
    assert isinstance(decomposed, dict)
    try:
        assert canonical_event(decomposed) == expected
    except EventNotCanonical:
        # Two keys distinct in NFD may coincide in NFC; that must be refused, never merged.
        return
    text = expected.decode("utf-8")
    assert unicodedata.normalize("NFC", text) == text


@pytest.mark.parametrize(
    "event",
    [
        {"x": 1.0},
        {"x": 1.5},
        {"x": 2**53},
        {"x": -(2**53)},
        {1: "key"},
        {"x": b"bytes"},
        {"x": {1, 2}},
        {"\u00e9": 1, "e\u0301": 2},
        {"x": "\ud800"},
        ["not", "an", "object"],
    ],
)
def test_ambiguous_values_are_refused(event: object) -> None:
    """Floats, unsafe integers, non-string or NFC-colliding keys, bytes, sets, lone surrogates
    and non-objects raise EventNotCanonical."""
    with pytest.raises(EventNotCanonical):
        canonical_event(event)  # type: ignore[arg-type]


def test_deep_nesting_is_refused() -> None:
    """Nesting deeper than 64 levels is refused rather than recursing without bound."""
    event: dict[str, object] = {"x": 0}
    for _ in range(100):
        event = {"x": event}
    with pytest.raises(EventNotCanonical, match="deeper"):
        canonical_event(event)


@given(salts, events)
def test_commitment_is_salted_hash_and_opens(salt: bytes, event: dict[str, object]) -> None:
    """commit = SHA-256(salt || canonical event), and it opens with that salt and event."""
    try:
        encoded = canonical_event(event)
    except EventNotCanonical:
        return
    c = commit(salt, event)
    assert c == hashlib.sha256(salt + encoded).digest()
    assert opens(c, salt, event)


@given(salts, salts, events, events)
def test_commitment_opens_only_with_right_salt_and_event(
    salt: bytes, other_salt: bytes, event: dict[str, object], other: dict[str, object]
) -> None:
    """A different salt or a different event (after canonicalisation) does not open it."""
    try:
        c = commit(salt, event)
        other_bytes = canonical_event(other)
    except EventNotCanonical:
        return
    if other_salt != salt:
        assert not opens(c, other_salt, event)
    if other_bytes != canonical_event(event):
        assert not opens(c, salt, other)


@given(salts, events, st.integers(0, 255))
def test_commitment_rejects_any_changed_bit(
    salt: bytes, event: dict[str, object], bit: int
) -> None:
    """Flipping any bit of the commitment or the salt stops it from opening."""
    try:
        c = commit(salt, event)
    except EventNotCanonical:
        return
    flipped = bytearray(c)
    flipped[bit // 8] ^= 1 << (bit % 8)
    assert not opens(bytes(flipped), salt, event)
    salt2 = bytearray(salt)
    salt2[bit // 8] ^= 1 << (bit % 8)
    assert not opens(c, bytes(salt2), event)


def test_salt_must_be_32_bytes() -> None:
    """commit refuses a short salt; opens simply answers False for it and for bad events."""
    with pytest.raises(InputError):
        commit(b"short", {"a": 1})
    c = commit(b"s" * 32, {"a": 1})
    assert not opens(c, b"s" * 31, {"a": 1})
    assert not opens(c, b"s" * 32, {"a": 1.0})


@given(salts, salts, events)
def test_outsiders_cannot_match_equal_events(
    s1: bytes, s2: bytes, event: dict[str, object]
) -> None:
    """The same event under two different salts gives unrelated commitments."""
    assume(s1 != s2)
    try:
        assert commit(s1, event) != commit(s2, event)
    except EventNotCanonical:
        return
