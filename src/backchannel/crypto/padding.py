"""Padding before encryption, so the host learns a message's length only to its bucket.

A plaintext of ``L`` bytes is padded to :func:`bucket` ``(L)`` bytes: the Padmé length (Nikitin
et al., "Reducing Metadata Leakage from Encrypted Files and Communication with PURBs", PETS 2019)
of ``L + 1``, and never less than :data:`MIN_BUCKET`. Padmé keeps the exponent of the length and
only as many high bits of the mantissa as the exponent has bits, so it costs at most 12% and
leaves the host O(log log L) bits of the length instead of all of it; every message shorter than
the minimum has one size. The padding itself is libsodium's ISO/IEC 7816-4 padding
(``sodium_pad``: a 0x80 byte, then zeros), through PyNaCl, with the bucket as the block size: the
receiver unpads with the length it received.
"""

from __future__ import annotations

from nacl.bindings import sodium_pad, sodium_unpad
from nacl.exceptions import CryptoError

from backchannel.errors import DecryptionFailed

#: The smallest padded size: every message up to 255 bytes looks alike.
MIN_BUCKET = 256


def bucket(length: int) -> int:
    """The padded size of a ``length``-byte plaintext (at least one byte more, for the marker)."""
    size = max(length + 1, MIN_BUCKET)
    exponent = size.bit_length() - 1
    kept = exponent.bit_length()
    mask = (1 << max(0, exponent - kept)) - 1
    return (size + mask) & ~mask


def pad(plaintext: bytes) -> bytes:
    """``plaintext`` padded to its bucket."""
    return bytes(sodium_pad(plaintext, bucket(len(plaintext))))


def unpad(padded: bytes) -> bytes:
    """The plaintext of a padded buffer; :class:`DecryptionFailed` if it is not padded."""
    if not padded:
        raise DecryptionFailed("the plaintext is not padded")
    try:
        return bytes(sodium_unpad(padded, len(padded)))
    except (CryptoError, ValueError) as exc:
        raise DecryptionFailed("the plaintext is not padded") from exc
