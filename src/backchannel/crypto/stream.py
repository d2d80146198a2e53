"""A document's encryption: libsodium's secretstream (XChaCha20-Poly1305) over fixed-size chunks.

Each document gets a fresh random key (:func:`new_key`). Its plaintext is first padded, with zero
bytes, to the Padmé bucket of its length (:func:`backchannel.crypto.padding.bucket`), so the host
storing the ciphertext learns the size only to its bucket; the true size travels inside the
end-to-end descriptor. The padded stream is cut into :data:`CHUNK` -byte pieces, each pushed
through one secretstream state; the last carries ``TAG_FINAL``. Because the state advances with
every chunk, a chunk that is altered, reordered, replayed, dropped or taken from another stream
fails to open, and a stream cut short never reaches the final tag: :class:`Opener` raises
:class:`~backchannel.errors.DecryptionFailed` in each case, and :meth:`Opener.finish` refuses a
stream that ended without its final tag. Nothing here is hand-written cryptography: it is
``crypto_secretstream_xchacha20poly1305_*`` through PyNaCl's bindings.
"""

from __future__ import annotations

from nacl import bindings as sodium
from nacl.exceptions import CryptoError as SodiumError

from backchannel.crypto.padding import bucket
from backchannel.errors import DecryptionFailed

#: Plaintext bytes per chunk (1 MiB): big enough to stream fast, small enough for one request.
CHUNK = 1024 * 1024
#: What each chunk's ciphertext adds (the tag byte and the Poly1305 MAC).
ABYTES: int = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
HEADER_BYTES: int = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
KEY_BYTES: int = sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES
_FINAL: int = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_MESSAGE: int = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE


def new_key() -> bytes:
    """A fresh random document key."""
    return bytes(sodium.crypto_secretstream_xchacha20poly1305_keygen())


def padded_size(size: int) -> int:
    """How many bytes a ``size``-byte document is padded to before encryption."""
    return bucket(size)


def chunk_count(size: int, chunk: int = CHUNK) -> int:
    """How many chunks a ``size``-byte document's padded stream makes (at least one)."""
    return -(-padded_size(size) // chunk)


def ciphertext_size(size: int, chunk: int = CHUNK) -> int:
    """The total ciphertext bytes of a ``size``-byte document: what the host stores."""
    return padded_size(size) + chunk_count(size, chunk) * ABYTES


class Sealer:
    """Encrypts one document's padded stream, chunk by chunk; :attr:`header` opens it."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("a document key is 32 bytes")
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        self.header = bytes(
            sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        )
        self._done = False

    def seal(self, chunk: bytes, *, final: bool) -> bytes:
        """The ciphertext of the next chunk (``final`` for the last one)."""
        if self._done:
            raise ValueError("the stream was already finished")
        self._done = final
        tag = _FINAL if final else _MESSAGE
        return bytes(
            sodium.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, None, tag)
        )

    def __repr__(self) -> str:
        return "Sealer([secure])"


class Opener:
    """Decrypts and authenticates one document's chunks, in order; raises on any fault."""

    def __init__(self, key: bytes, header: bytes) -> None:
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)
        except (SodiumError, ValueError, TypeError) as exc:
            raise DecryptionFailed("the document's key or header is malformed") from exc
        self.finished = False

    def open(self, ciphertext: bytes) -> bytes:
        """The plaintext of the next chunk; DecryptionFailed if it is not the next chunk of
        this stream under this key (altered, reordered, foreign) or comes after the last."""
        if self.finished:
            raise DecryptionFailed("a chunk came after the document's last chunk")
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                self._state, ciphertext, None
            )
        except (SodiumError, ValueError, TypeError) as exc:
            raise DecryptionFailed(
                "a chunk of the document does not verify (altered, out of order, or another key)"
            ) from exc
        self.finished = tag == _FINAL
        return bytes(plain)

    def finish(self) -> None:
        """Check the stream ended with its final chunk; DecryptionFailed if it was cut short."""
        if not self.finished:
            raise DecryptionFailed("the document ended before its last chunk (truncated)")

    def __repr__(self) -> str:
        return "Opener([secure])"
