"""Padding: the host learns a message's length only to its Padmé bucket.

Every ciphertext a device seals is for a plaintext padded (libsodium's ISO/IEC 7816-4 padding) to
the next Padmé length, at least 256 bytes: so every short message has the same size, and a long
one leaks at most O(log log L) bits of its length.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backchannel.crypto import Context, Device, Recipient, Sessions
from backchannel.crypto.padding import MIN_BUCKET, bucket, pad, unpad


def _sizes(payloads: list[bytes]) -> set[int]:
    """The sizes of the Olm ciphertexts carrying each payload, each checked to open."""
    alice, bob = Sessions(Device("alice")), Sessions(Device("bob"))
    (key,) = bob.device.publish_one_time_keys(1).values()
    to_bob = [Recipient("bob", bob.device.curve25519, key)]
    ctx = Context("t", "r", "alice", "m")
    sizes = set()
    for payload in payloads:
        sealed = alice.seal(payload, ctx, to_bob)["bob"]
        assert bob.open(sealed, alice.device.curve25519, ctx) == payload
        sizes.add(len(sealed))
    return sizes


def test_short_messages_all_have_one_size() -> None:
    """Messages of 0 to 60 bytes give ciphertexts of a single size."""
    assert len(_sizes([b"x" * n for n in range(0, 61, 3)])) == 1


def test_a_length_is_learnt_only_to_its_bucket() -> None:
    """300 messages of 1,000 to 1,299 bytes give at most six ciphertext sizes (unpadded they gave
    39: the host read each length to within about 8 bytes)."""
    assert len(_sizes([b"y" * n for n in range(1000, 1300)])) <= 6


@given(st.integers(0, 10**7))
def test_padme_buckets_cost_at_most_12_percent(length: int) -> None:
    """A bucket is at least the length (plus the padding marker), at least 256 bytes, and at
    most 12% over it beyond that."""
    size = bucket(length)
    assert size > length and size >= MIN_BUCKET
    assert size <= max(MIN_BUCKET, (length + 1) * 1.12 + 1)


@given(st.binary(max_size=5000))
def test_pad_then_unpad_is_the_identity(data: bytes) -> None:
    """Unpadding gives back exactly what was padded."""
    padded = pad(data)
    assert len(padded) == bucket(len(data))
    assert unpad(padded) == data
