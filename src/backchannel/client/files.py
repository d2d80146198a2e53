"""A device profile's files: the keystore, the sealed state, and the lock.

A profile is a directory holding two files, both readable by the owner only:

- ``keystore.bcks`` — the identity key's seed, the device id, the host's URL and a random 32-byte
  **local key**, encrypted under the passphrase (:mod:`backchannel.crypto.keystore`, Argon2id).
- ``state.bcst`` — the Olm account and sessions (pickled by vodozemac under the local key) and
  every talks' local history: the events this device holds, the introductions it knows, its
  record witness; sealed under the local key with XChaCha20-Poly1305. This is the **local
  encrypted cache** of the talks: nothing the device decrypted is written in the clear.

One process at a time opens a profile (an exclusive lock on ``.lock``). Writes are atomic, and
the device saves before it acknowledges deliveries to the host, so a crash loses nothing
acknowledged. Keys derived from the local key (:func:`derive`) need no storage of their own.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchannel.crypto import keystore
from backchannel.crypto.signed import b64, canonical_json, unb64
from backchannel.errors import ProfileBusy, ProfileExists, ProfileMissing

KEYSTORE = "keystore.bcks"
STATE = "state.bcst"
LOCK = ".lock"
STATE_PURPOSE = b"backchannel/profile-state/v1"


@dataclass(frozen=True, slots=True)
class Secrets:
    """What the keystore holds."""

    device_id: str
    host: str
    identity_seed: bytes
    local_key: bytes
    name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "host": self.host,
            "identity": b64(self.identity_seed),
            "local_key": b64(self.local_key),
            "name": self.name,
            "v": 1,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Secrets:
        return cls(
            str(data["device_id"]),
            str(data["host"]),
            unb64(data["identity"]),
            unb64(data["local_key"]),
            str(data["name"]),
        )


class ProfileFiles:
    """The open files of one profile directory (holding its lock until :meth:`close`)."""

    def __init__(self, path: Path, lock: int) -> None:
        self.path = path
        self._lock = lock

    @classmethod
    def new(cls, path: Path) -> ProfileFiles:
        """Claim a new profile directory; refuses one that holds a profile."""
        if cls.exists(path):
            raise ProfileExists(f"a profile already exists in {path}; it is never overwritten")
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        return cls(path, _lock(path))

    @staticmethod
    def exists(path: Path) -> bool:
        """Whether ``path`` holds a profile."""
        return (path / KEYSTORE).exists()

    @classmethod
    def existing(cls, path: Path) -> ProfileFiles:
        """Open the profile directory ``path``."""
        if not cls.exists(path):
            raise ProfileMissing(
                f"no profile in {path}: create one with 'backchannel profile create'"
            )
        return cls(path, _lock(path))

    def write_secrets(self, found: Secrets, passphrase: str, **limits: int) -> None:
        """Seal the keystore under ``passphrase``."""
        keystore.save(self.path / KEYSTORE, canonical_json(found.to_json()), passphrase, **limits)

    def read_secrets(self, passphrase: str) -> Secrets:
        """Unlock the keystore."""
        return Secrets.from_json(json.loads(keystore.load(self.path / KEYSTORE, passphrase)))

    def write_state(self, state: dict[str, Any], local_key: bytes) -> None:
        """Seal and write the state, atomically."""
        sealed = keystore.seal_local(canonical_json(state), local_key, STATE_PURPOSE)
        keystore.write_private(self.path / STATE, sealed)

    def read_state(self, local_key: bytes) -> dict[str, Any]:
        """Open the sealed state."""
        raw = keystore.open_local((self.path / STATE).read_bytes(), local_key, STATE_PURPOSE)
        state: dict[str, Any] = json.loads(raw)
        return state

    @property
    def open(self) -> bool:
        """Whether the lock is still held."""
        return self._lock >= 0

    def close(self) -> None:
        """Release the lock (once)."""
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


def derive(local_key: bytes, purpose: bytes, context: str = "") -> bytes:
    """A 32-byte key for ``purpose`` derived from a profile's local key (never stored)."""
    return keystore.derive_local(local_key, purpose, context)


def _lock(path: Path) -> int:
    handle = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        raise ProfileBusy(f"another process has the profile in {path} open") from None
    return handle
