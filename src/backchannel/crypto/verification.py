"""Comparing keys out of band: fingerprints and SAS short codes.

A **fingerprint** is a hash of an identity key shown as 8 groups of 5 digits (SHA-512 of a
domain-separated key; each group is 5 bytes of it modulo 100000), easy to read aloud and compare.
A **SAS** (short authentication string) exchange runs vodozemac's SAS: each side sends an
ephemeral Curve25519 key, both derive the same 7 emoji indices and 3 four-digit numbers from the
shared secret and an ``info`` string naming both devices; a man in the middle ends up with
different codes on the two sides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import vodozemac

from backchannel.errors import CryptoError


def fingerprint(public_key: bytes) -> str:
    """8 groups of 5 digits identifying ``public_key``."""
    digest = hashlib.sha512(b"backchannel/fingerprint/v1\n" + public_key).digest()
    groups = [int.from_bytes(digest[i : i + 5], "big") % 100_000 for i in range(0, 40, 5)]
    return " ".join(f"{group:05d}" for group in groups)


@dataclass(frozen=True, slots=True)
class ShortCodes:
    """What both people compare: three numbers and seven emoji (as indices into the SAS table)."""

    decimals: tuple[int, int, int]
    emoji: tuple[int, ...]

    def display(self) -> str:
        """The numbers as people read them aloud."""
        return " ".join(f"{d:04d}" for d in self.decimals)


class SasExchange:
    """One side of a SAS verification."""

    def __init__(self) -> None:
        self._sas = vodozemac.Sas()
        self._used = False

    @property
    def public_key(self) -> bytes:
        """The ephemeral key to send to the other side."""
        return bytes(self._sas.public_key.to_bytes())

    def complete(self, their_public_key: bytes, info: str) -> ShortCodes:
        """The codes, once the other side's key has arrived; ``info`` must be the same on both.

        An exchange completes once: a new verification needs a new exchange (fresh keys).
        """
        if self._used:
            raise CryptoError("this SAS exchange was already completed; start a new one")
        self._used = True
        try:
            established = self._sas.diffie_hellman(
                vodozemac.Curve25519PublicKey.from_bytes(their_public_key)
            )
        except ValueError as exc:
            raise CryptoError("the other side's SAS key is not valid") from exc
        codes = established.bytes(info)
        return ShortCodes(tuple(codes.decimals), tuple(codes.emoji_indices))  # type: ignore[arg-type]
