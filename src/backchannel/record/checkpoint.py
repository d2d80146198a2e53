"""Checkpoints and cosignatures: signed tree heads in the C2SP formats transparency logs use.

A checkpoint (c2sp.org/tlog-checkpoint) is a signed note (c2sp.org/signed-note) whose text is
the log's origin, its tree size and its base64 root hash, one per line. The host signs each
checkpoint with the log's Ed25519 key; participants, acting as witnesses, add Ed25519
cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``) once they have checked the new
head is consistent with the last one they saw. Everything is parsed strictly: a note that bends
the format is rejected with the reason, signatures by unknown keys are ignored as the spec
requires, and a note counts only if a signature by the expected key verifies.

No clock or randomness here: cosignature timestamps are passed in, keys are passed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from backchannel.errors import CheckpointMalformed, SignatureInvalid
from backchannel.record.merkle import HASH_SIZE

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "Checkpoint",
    "Note",
    "NoteKey",
    "NoteSignature",
    "check_cosignature",
    "cosign",
    "key_id",
    "open_checkpoint",
    "open_note",
    "sign_checkpoint",
]

ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (signed-note, "Signature types")."""

COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 checkpoint cosignatures (tlog-cosignature)."""

_EM_DASH = "\u2014"
_MAX_SIGNATURES = 100  # signed-note: verifiers MUST accept at least 16
_MAX_NOTE_CHARS = 1 << 20
_MAX_TREE_SIZE = 2**64 - 1
_MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_ED25519_SIG = 64


def _malformed(reason: str) -> CheckpointMalformed:
    return CheckpointMalformed(f"Malformed note: {reason}.", detail={"reason": reason})


def _b64decode(text: str, what: str) -> bytes:
    """Decode standard base64 (RFC 4648 §4), accepting only its one canonical spelling."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise _malformed(f"{what} is not base64") from exc
    # b64decode ignores the unused low bits of the last character; a strict parser must not,
    # or two spellings of one note would both verify.
    if base64.b64encode(raw).decode("ascii") != text:
        raise _malformed(f"{what} is not canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_key_name(name: str) -> None:
    """signed-note "Format": key names are non-empty, without Unicode spaces or '+'."""
    if not name:
        raise _malformed("a key name is empty")
    for ch in name:
        if ch == "+" or ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
            raise _malformed(f"key name {name!r} contains a space or '+'")


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """Return the 4-byte key ID ``SHA-256(name || 0x0A || sig_type || public_key)[:4]``.

    The derivation is the one signed-note ("Signatures") recommends and tlog-cosignature
    ("Format") requires, with type 0x01 for note signatures and 0x04 for cosignatures.
    """
    data = name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key
    return hashlib.sha256(data).digest()[:4]


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head as tlog-checkpoint "Note text" defines it: origin, size, root, extensions."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not isinstance(line, str) or not line:
                raise _malformed("a checkpoint line is empty")
            if any(ch < " " for ch in line):
                raise _malformed("a checkpoint line contains a control character")
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise _malformed("the tree size is not an integer")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise _malformed("the tree size does not fit in 64 bits")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise _malformed("the root hash is not 32 bytes")

    def body(self) -> str:
        """Return the note text: each line newline-terminated, root in base64."""
        lines = [self.origin, str(self.size), _b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse a note text into a checkpoint, strictly (tlog-checkpoint "Note text")."""
        if not text.endswith("\n"):
            raise _malformed("the checkpoint does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise _malformed("a checkpoint needs origin, size and root lines")
        if any(not line for line in lines):
            raise _malformed("a checkpoint line is empty")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise _malformed("the tree size is not a decimal without leading zeros")
        root = _b64decode(root_text, "the root hash")
        return cls(origin, int(size_text), root, tuple(extensions))


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: ``— <name> base64(key ID || signature)`` (signed-note "Format")."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """Return the signature line, newline included."""
        return f"{_EM_DASH} {self.name} {_b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A signed note: a text ending in a newline and one or more signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        """Return the note as text: body, blank line, signature lines."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)

    def with_signatures(self, *signatures: NoteSignature) -> Note:
        """Return this note with ``signatures`` appended (e.g. a witness's cosignature)."""
        return Note(self.text, self.signatures + signatures)

    @classmethod
    def parse(cls, data: str | bytes) -> Note:
        """Parse a note strictly per signed-note "Format"; raise :class:`CheckpointMalformed`.

        The text is UTF-8 without control characters other than newline; it is separated from
        the signatures by its last blank line; each signature line is an em dash, a space, a
        valid key name, a space and canonical base64 of at least five bytes.
        """
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _malformed("the note is not valid UTF-8") from exc
        if len(data) > _MAX_NOTE_CHARS:
            raise _malformed("the note is too large")
        if any(ch < " " and ch != "\n" for ch in data):
            raise _malformed("the note contains a control character")
        split = data.rfind("\n\n")
        if split < 0:
            raise _malformed("no blank line separates the text from the signatures")
        text, block = data[: split + 1], data[split + 2 :]
        if not block:
            raise _malformed("the note has no signature")
        if not block.endswith("\n"):
            raise _malformed("the last signature line does not end with a newline")
        lines = block[:-1].split("\n")
        if len(lines) > _MAX_SIGNATURES:
            raise _malformed(f"the note has more than {_MAX_SIGNATURES} signatures")
        return cls(text, tuple(_parse_signature_line(line) for line in lines))


def _parse_signature_line(line: str) -> NoteSignature:
    prefix = _EM_DASH + " "
    if not line.startswith(prefix):
        raise _malformed("a signature line does not start with an em dash and a space")
    name, space, encoded = line[len(prefix) :].partition(" ")
    if not space:
        raise _malformed("a signature line has no signature after the key name")
    _check_key_name(name)
    raw = _b64decode(encoded, "a signature")
    if len(raw) < 5:
        raise _malformed("a signature is shorter than a key ID and one byte")
    return NoteSignature(name, raw[:4], raw[4:])


@dataclass(frozen=True, slots=True)
class NoteKey:
    """A trusted public key: the name it signs under, its Ed25519 key and its signature type.

    ``sig_type`` is :data:`ED25519` for a log's checkpoint key and :data:`COSIGNATURE_V1` for a
    witness's cosigning key; the type enters the key ID, so one cannot pass for the other.
    """

    name: str
    public_key: bytes
    sig_type: int = ED25519

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise _malformed("an Ed25519 public key is not 32 bytes")
        if self.sig_type not in (ED25519, COSIGNATURE_V1):
            raise _malformed(f"signature type {self.sig_type:#04x} is not supported")

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID signature lines carry for this key."""
        return key_id(self.name, self.sig_type, self.public_key)

    def vkey(self) -> str:
        """Return the verifier key string ``name+hex(key ID)+base64(type || key)``."""
        material = _b64encode(bytes([self.sig_type]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteKey:
        """Parse a verifier key (signed-note "Verifier keys"); the key ID must match."""
        # Names never hold '+'; the base64 key material may, so only the first two split.
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise _malformed("a verifier key has three '+'-separated parts")
        name, hex_id, material = parts
        raw = _b64decode(material, "the verifier key material")
        if len(raw) != 33:
            raise _malformed("the verifier key is not a type byte and a 32-byte Ed25519 key")
        key = cls(name, raw[1:], raw[0])
        if hex_id != key.key_id.hex():
            raise _malformed("the verifier key's ID does not match its name and key")
        return key

    @classmethod
    def for_signing_key(
        cls, name: str, signing_key: nacl.signing.SigningKey, sig_type: int = ED25519
    ) -> NoteKey:
        """Return the public half of ``signing_key`` under ``name``."""
        return cls(name, bytes(signing_key.verify_key), sig_type)


# --- signing and verifying -------------------------------------------------------------------


def _cosigned_message(text: str, timestamp: int) -> bytes:
    """tlog-cosignature "Ed25519 signed message": header, time line, then the note text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def _verify(key: NoteKey, message: bytes, signature: bytes) -> None:
    try:
        nacl.signing.VerifyKey(key.public_key).verify(message, signature)
    except nacl.exceptions.BadSignatureError as exc:
        raise SignatureInvalid(
            f"The signature by {key.name} does not verify.", detail={"key": key.vkey()}
        ) from exc


def _signatures_by(note: Note, key: NoteKey) -> list[NoteSignature]:
    """The note's signatures by ``key``; others are ignored as signed-note "Signatures" says."""
    found = [s for s in note.signatures if s.name == key.name and s.key_id == key.key_id]
    if not found:
        raise SignatureInvalid(
            f"The note carries no signature by {key.name}.", detail={"key": key.vkey()}
        )
    return found


def sign_checkpoint(
    checkpoint: Checkpoint, name: str, signing_key: nacl.signing.SigningKey
) -> Note:
    """Sign ``checkpoint`` as the log ``name`` with an Ed25519 note signature (type 0x01)."""
    key = NoteKey.for_signing_key(name, signing_key)
    text = checkpoint.body()
    signature = signing_key.sign(text.encode("utf-8")).signature
    return Note(text, (NoteSignature(name, key.key_id, signature),))


def open_note(note: str | bytes | Note, key: NoteKey) -> str:
    """Verify a signed note against ``key`` (type 0x01) and return its text.

    Raises :class:`CheckpointMalformed` if the note breaks the signed-note format and
    :class:`SignatureInvalid` unless the note holds a signature by ``key`` and every signature
    by that key verifies; signatures by other keys are ignored (signed-note "Signatures").
    """
    if key.sig_type != ED25519:
        raise _malformed("a note key must have signature type 0x01")
    parsed = note if isinstance(note, Note) else Note.parse(note)
    message = parsed.text.encode("utf-8")
    for sig in _signatures_by(parsed, key):
        if len(sig.signature) != _ED25519_SIG:
            raise SignatureInvalid(f"The signature by {key.name} is not 64 bytes.")
        _verify(key, message, sig.signature)
    return parsed.text


def open_checkpoint(
    note: str | bytes | Note, log_key: NoteKey, *, origin: str | None = None
) -> Checkpoint:
    """Verify a checkpoint note against the log's key and return the checkpoint it states.

    Raises :class:`CheckpointMalformed` if the note or its body breaks the format or names
    another origin than ``origin`` (default: the key's name, as tlog-checkpoint recommends),
    and :class:`SignatureInvalid` unless the note holds a signature by ``log_key`` and every
    signature by that key verifies.
    """
    checkpoint = Checkpoint.from_body(open_note(note, log_key))
    expected = log_key.name if origin is None else origin
    if checkpoint.origin != expected:
        raise CheckpointMalformed(
            f"The checkpoint is for log {checkpoint.origin!r}, not {expected!r}.",
            detail={"origin": checkpoint.origin, "expected": expected},
        )
    return checkpoint


def cosign(
    checkpoint: Checkpoint, name: str, signing_key: nacl.signing.SigningKey, timestamp: int
) -> NoteSignature:
    """Return a ``cosignature/v1`` line by witness ``name`` over ``checkpoint`` at ``timestamp``.

    ``timestamp`` is POSIX seconds supplied by the caller. The signature bytes are the 8-byte
    big-endian timestamp followed by the Ed25519 signature (tlog-cosignature "Format").
    """
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise _malformed("a cosignature timestamp must be between 0 and 2**63 - 1")
    key = NoteKey.for_signing_key(name, signing_key, COSIGNATURE_V1)
    message = _cosigned_message(checkpoint.body(), timestamp)
    signature = signing_key.sign(message).signature
    return NoteSignature(name, key.key_id, timestamp.to_bytes(8, "big") + signature)


def check_cosignature(note: str | bytes | Note, cosigner_key: NoteKey) -> int:
    """Verify the cosignature by ``cosigner_key`` on a checkpoint note; return its timestamp.

    Raises :class:`SignatureInvalid` when no cosignature by that key is present or one does not
    verify, and :class:`CheckpointMalformed` when the note or its checkpoint is malformed. With
    several cosignatures by the key, all must verify and the latest timestamp is returned.
    This does not check the log's own signature: use :func:`open_checkpoint` for that.
    """
    if cosigner_key.sig_type != COSIGNATURE_V1:
        raise _malformed("a cosigner key must have signature type 0x04")
    parsed = note if isinstance(note, Note) else Note.parse(note)
    latest = -1
    for sig in _signatures_by(parsed, cosigner_key):
        if len(sig.signature) != 8 + _ED25519_SIG:
            raise SignatureInvalid(
                f"The cosignature by {cosigner_key.name} is not a timestamp and 64 bytes."
            )
        timestamp = int.from_bytes(sig.signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            raise SignatureInvalid(f"The cosignature by {cosigner_key.name} has a bad timestamp.")
        _verify(cosigner_key, _cosigned_message(parsed.text, timestamp), sig.signature[8:])
        latest = max(latest, timestamp)
    Checkpoint.from_body(parsed.text)
    return latest
