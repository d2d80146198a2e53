"""The keystore: a device profile on disk, encrypted at rest with a passphrase.

File format (all integers big-endian)::

    b"BCKS" | version (1 byte) | opslimit (8) | memlimit (8) | salt (16) | nonce (24) | ciphertext

The key is Argon2id(passphrase, salt, opslimit, memlimit) from libsodium; the ciphertext is
XChaCha20-Poly1305 (libsodium's AEAD) over the profile, with everything before it — the header —
as associated data, so changing any byte of the file, header included, fails authentication. A
wrong passphrase and an altered file are the same error, :class:`KeystoreLocked`. Files are written
atomically (a temporary file, fsync, rename, fsync of the directory) with mode 0600.
"""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path

import nacl.bindings
import nacl.hash
import nacl.pwhash
import nacl.utils
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError as NaclCryptoError

from backchannel.errors import KeystoreLocked

MAGIC = b"BCKS"
VERSION = 1
_HEADER = struct.Struct(">4sBQQ16s")
OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MODERATE


def _key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        32, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit
    )


def seal(
    profile: bytes, passphrase: str, *, opslimit: int = OPSLIMIT, memlimit: int = MEMLIMIT
) -> bytes:
    """The encrypted file contents for ``profile``."""
    salt = nacl.utils.random(16)
    header = _HEADER.pack(MAGIC, VERSION, opslimit, memlimit, salt)
    nonce = nacl.utils.random(24)
    box = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        profile, header + nonce, nonce, _key(passphrase, salt, opslimit, memlimit)
    )
    return header + nonce + box


def unseal(data: bytes, passphrase: str) -> bytes:
    """The profile inside ``data``; :class:`KeystoreLocked` for a wrong passphrase or any change."""
    if len(data) < _HEADER.size + 24 + 16:
        raise KeystoreLocked("the keystore file is truncated or not a keystore")
    magic, version, opslimit, memlimit, salt = _HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise KeystoreLocked("not a Backchannel keystore, or an unknown version")
    limits_ok = (
        nacl.pwhash.argon2id.OPSLIMIT_MIN <= opslimit <= nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
        and nacl.pwhash.argon2id.MEMLIMIT_MIN <= memlimit <= nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE
    )
    if not limits_ok:
        raise KeystoreLocked("the keystore's key-derivation settings were altered")
    header = data[: _HEADER.size]
    nonce = data[_HEADER.size : _HEADER.size + 24]
    try:
        return bytes(
            nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                data[_HEADER.size + 24 :],
                header + nonce,
                nonce,
                _key(passphrase, salt, opslimit, memlimit),
            )
        )
    except NaclCryptoError as exc:
        raise KeystoreLocked("wrong passphrase, or the keystore file was altered") from exc


def save(path: Path, profile: bytes, passphrase: str, **limits: int) -> None:
    """Write the encrypted profile to ``path`` atomically, readable by the owner only."""
    write_private(path, seal(profile, passphrase, **limits))


def seal_local(data: bytes, key: bytes, purpose: bytes) -> bytes:
    """``data`` encrypted under a profile's random 32-byte local key (XChaCha20-Poly1305).

    ``purpose`` (e.g. ``b"backchannel/profile-state/v1"``) is the associated data: a file sealed
    for one purpose does not open as another.
    """
    nonce = nacl.utils.random(24)
    return nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        data, purpose, nonce, key
    )


def open_local(sealed: bytes, key: bytes, purpose: bytes) -> bytes:
    """The data :func:`seal_local` sealed; :class:`KeystoreLocked` for any change."""
    try:
        return bytes(
            nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed[24:], purpose, sealed[:24], key
            )
        )
    except (NaclCryptoError, ValueError) as exc:
        raise KeystoreLocked("the profile's local data was altered or is not its own") from exc


def derive_local(key: bytes, purpose: bytes, context: str) -> bytes:
    """A 32-byte key for one purpose and context, derived from a profile's local key.

    Keyed BLAKE2b (libsodium's generichash, the KDF construction it documents): the local key
    keys the hash, ``purpose`` is its personalisation (at most 16 bytes), ``context`` (e.g. a
    talks id) its input. Keys for different purposes or contexts are independent, and none
    reveals the local key.
    """
    if len(purpose) > 16:
        raise ValueError("a purpose has at most 16 bytes")
    return bytes(
        nacl.hash.blake2b(
            context.encode("utf-8"), digest_size=32, key=key, person=purpose, encoder=RawEncoder
        )
    )


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".keystore-")
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, data)
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load(path: Path, passphrase: str) -> bytes:
    """Read and decrypt the profile at ``path``."""
    return unseal(path.read_bytes(), passphrase)
