"""Documents on their way out: the ciphertext spool and sealed notes that let an upload resume.

``doc send`` seals the file into ``outbox/<id>.spool`` (ciphertext only) and writes
``outbox/<id>.note``: the descriptor and message id, sealed with XChaCha20-Poly1305
(:class:`nacl.secret.SecretBox`) under a key derived from the profile's local key, so the
document key is never on disk in the clear. The id is a keyed hash of what is being sent (the
file's hash, the talks, the room, the label, what it supersedes), so sending the same file to the
same place again after a cut finds the note and resumes with the same key, blob and message id.
Both files go once the message is sent.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.hash
import nacl.secret
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError as SodiumError

from backchannel.client.document import Descriptor, parse


@dataclass(frozen=True, slots=True)
class Pending:
    """A document being sent: its message id and descriptor."""

    message: str
    descriptor: Descriptor


class Outbox:
    """The profile's pending documents (one directory, owner-only)."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._box = nacl.secret.SecretBox(key)
        self._key = key

    def __repr__(self) -> str:
        return f"Outbox({self.directory}, [secure])"

    def entry(self, *parts: str) -> str:
        """The id of a pending send of exactly these parts (file hash, talks, room…)."""
        data = json.dumps(parts).encode("utf-8")
        return nacl.hash.blake2b(data, digest_size=16, key=self._key, encoder=RawEncoder).hex()

    def spool(self, entry: str) -> Path:
        """Where the entry's ciphertext is spooled (the directory is created, owner-only)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.directory / f"{entry}.spool"

    def load(self, entry: str) -> Pending | None:
        """The pending send of this id, if its note and spool are both there and sound."""
        note = self.directory / f"{entry}.note"
        if not note.exists() or not self.spool(entry).exists():
            return None
        try:
            data: dict[str, Any] = json.loads(self._box.decrypt(note.read_bytes()))
            descriptor = parse(str(data["descriptor"]))
            message = str(data["message"])
        except (SodiumError, ValueError, KeyError, TypeError):
            return None
        return None if descriptor is None else Pending(message, descriptor)

    def save(self, entry: str, pending: Pending) -> None:
        """Write the entry's note, sealed, atomically."""
        body = json.dumps(
            {"message": pending.message, "descriptor": pending.descriptor.to_text()}
        ).encode("utf-8")
        note = self.directory / f"{entry}.note"
        temp = note.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self._box.encrypt(body))
        os.replace(temp, note)

    def done(self, entry: str) -> None:
        """Forget a sent entry (its note and spool)."""
        for suffix in (".note", ".spool"):
            (self.directory / f"{entry}{suffix}").unlink(missing_ok=True)
