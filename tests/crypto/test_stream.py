"""The document stream: chunks round-trip; altered, reordered, dropped, foreign, cut: refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.crypto import stream
from backchannel.crypto.padding import bucket
from backchannel.errors import DecryptionFailed

SMALL = 64  # a small chunk size keeps many-chunk streams cheap to test


def _seal(data: bytes, chunk: int = SMALL) -> tuple[bytes, bytes, list[bytes]]:
    key = stream.new_key()
    sealer = stream.Sealer(key)
    padded = data + bytes(stream.padded_size(len(data)) - len(data))
    pieces = [padded[i : i + chunk] for i in range(0, len(padded), chunk)]
    sealed = [sealer.seal(p, final=i == len(pieces) - 1) for i, p in enumerate(pieces)]
    return key, sealer.header, sealed


def _open(key: bytes, header: bytes, chunks: list[bytes]) -> bytes:
    opener = stream.Opener(key, header)
    out = b"".join(opener.open(c) for c in chunks)
    opener.finish()
    return out


sizes = st.one_of(
    st.sampled_from([0, 1, SMALL - 1, SMALL, SMALL + 1, 4 * SMALL, 255, 256, 257]),
    st.integers(0, 3000),
)


@settings(max_examples=60, deadline=None)
@given(size=sizes, seed=st.binary(min_size=1, max_size=16))
def test_round_trip_over_sizes(size: int, seed: bytes) -> None:
    """Any size, 0 bytes and exact chunk multiples included, opens to its padded plaintext;
    the sizes the host sees depend only on the padded bucket."""
    data = (seed * (size // len(seed) + 1))[:size]
    key, header, chunks = _seal(data)
    opened = _open(key, header, chunks)
    assert opened[:size] == data and not opened[size:].strip(b"\0")
    assert len(opened) == bucket(size)
    assert sum(map(len, chunks)) == stream.ciphertext_size(size, SMALL)
    assert len(chunks) == stream.chunk_count(size, SMALL)


@pytest.fixture
def sealed() -> tuple[bytes, bytes, list[bytes]]:
    return _seal(b"non-paper v1 " * 40)


def test_altered_chunk_fails(sealed: tuple[bytes, bytes, list[bytes]]) -> None:
    """Flipping one bit of any chunk fails that chunk."""
    key, header, chunks = sealed
    for i in range(len(chunks)):
        bad = list(chunks)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(DecryptionFailed):
            _open(key, header, bad)


def test_reordered_dropped_and_cut_streams_fail(sealed: tuple[bytes, bytes, list[bytes]]) -> None:
    """Swapping two chunks, dropping one, or stopping before the last: each refused."""
    key, header, chunks = sealed
    swapped = [chunks[1], chunks[0], *chunks[2:]]
    with pytest.raises(DecryptionFailed):
        _open(key, header, swapped)
    with pytest.raises(DecryptionFailed):
        _open(key, header, chunks[:1] + chunks[2:])
    with pytest.raises(DecryptionFailed, match="truncated"):
        _open(key, header, chunks[:-1])
    with pytest.raises(DecryptionFailed, match="after"):
        _open(key, header, [*chunks, chunks[-1]])


def test_wrong_key_or_another_stream_fails(sealed: tuple[bytes, bytes, list[bytes]]) -> None:
    """Another key, another stream's header, or another stream's chunk: refused."""
    key, header, chunks = sealed
    other_key, other_header, other_chunks = _seal(b"another document " * 40)
    with pytest.raises(DecryptionFailed):
        _open(other_key, header, chunks)
    with pytest.raises(DecryptionFailed):
        _open(key, other_header, chunks)
    with pytest.raises(DecryptionFailed):
        _open(key, header, [chunks[0], other_chunks[1], *chunks[2:]])


def test_keys_never_print() -> None:
    """Neither end of a stream shows its state in repr."""
    key = stream.new_key()
    sealer = stream.Sealer(key)
    assert "secure" in repr(sealer) and "secure" in repr(stream.Opener(key, sealer.header))
