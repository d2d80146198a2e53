"""Recipient tags: how a device learns that the record holds an event addressed to it.

Every device has an X25519 **tag key** (its public half travels in its signed introduction). Two
devices share a secret without ever sending one: libsodium's ``crypto_box_beforenm``
(X25519, then HSalsa20), through PyNaCl's :class:`nacl.public.Box`. When a device sends an event
it adds, for each device it encrypts the event to, the tag

    tag = BLAKE2b-128(key = shared secret, person = "bc-recipient-v1",
                      message = canonical JSON [talks id, recipient device id, commitment])

to the event's record entry, and pads the list with random 16-byte strings to a power of two
(at least four), sorted. Only the sender and that recipient can compute the tag; to anyone else,
the host included, every tag is 16 random-looking bytes, so the list says no more than its padded
length. A recipient that finds its own tag on an entry it never received knows the host withheld
it. A tag binds the talks, the recipient and the entry's commitment, so it cannot be moved to
another entry, another talks or another device. See ``docs/security.md``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable

import nacl.encoding
import nacl.hash
import nacl.public

from backchannel.crypto.signed import canonical_json

TAG_SIZE = 16
_PERSON = b"bc-recipient-v1"
_MIN_TAGS = 4


class TagKey:
    """A device's X25519 tag key. Its secret never appears in ``repr``."""

    __slots__ = ("_secret", "_shared")

    def __init__(self, secret: bytes) -> None:
        self._secret = nacl.public.PrivateKey(secret)
        self._shared: dict[bytes, bytes] = {}

    @classmethod
    def generate(cls) -> TagKey:
        """A fresh key from the system's randomness (libsodium)."""
        return cls(bytes(nacl.public.PrivateKey.generate()))

    @property
    def secret(self) -> bytes:
        """The 32-byte secret, for the device's sealed storage only."""
        return bytes(self._secret)

    @property
    def public(self) -> bytes:
        """The 32-byte public key other devices tag with."""
        return bytes(self._secret.public_key)

    def tag(self, peer: bytes, talks: str, recipient: str, commitment: bytes) -> bytes:
        """The tag for ``recipient`` on the entry of ``commitment``, shared with ``peer`` (the
        other device's public tag key: the recipient's when sending, the sender's when
        checking)."""
        shared = self._shared.get(peer)
        if shared is None:
            box = nacl.public.Box(self._secret, nacl.public.PublicKey(peer))
            shared = self._shared[peer] = box.shared_key()
        message = canonical_json([talks, recipient, base64.b64encode(commitment).decode()])
        return nacl.hash.blake2b(
            message,
            digest_size=TAG_SIZE,
            key=shared,
            person=_PERSON,
            encoder=nacl.encoding.RawEncoder,
        )

    def __repr__(self) -> str:
        return f"TagKey(public={base64.b64encode(self.public).decode()}, secret=[secure])"


def padded(tags: Iterable[bytes], random: Callable[[int], bytes]) -> list[bytes]:
    """``tags`` and random filler up to a power of two (at least four), sorted."""
    found = sorted(set(tags))
    size = _MIN_TAGS
    while size < len(found):
        size *= 2
    return sorted(found + [random(TAG_SIZE) for _ in range(size - len(found))])
