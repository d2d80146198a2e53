"""The store's one interface and the values it takes and returns.

The host keeps only what it needs to route ciphertexts between devices: opaque ids, public keys,
signature blobs, ciphertexts, sizes and times. Every time is an integer count of milliseconds
since the Unix epoch, passed in by the caller (the store never reads a clock). Every method is
atomic: it either does all it says or raises and changes nothing. Duplicate keys raise
:class:`~backchannel.errors.StoreConflict`; driver failures raise
:class:`~backchannel.errors.StoreError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

#: What consuming an authentication challenge found.
ChallengeOutcome = Literal["consumed", "replayed", "expired", "unknown"]


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device: its opaque id, its identity's key and its own public keys."""

    device_id: str
    identity_key: bytes
    curve25519: bytes
    ed25519: bytes
    certificate: bytes
    created_at: int
    revoked_at: int | None = None

    @property
    def revoked(self) -> bool:
        """Whether the device was revoked (it may then do and read nothing)."""
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class OneTimeKey:
    """A one-time public key a device uploaded for others to claim, once, to open a session."""

    device_id: str
    key_id: str
    public_key: bytes
    #: Whether this is the device's fallback key (handed out again until replaced).
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class Talks:
    """A talks as the host sees it: a random id, its creator and how many events it holds."""

    talks_id: str
    creator_device: str
    created_at: int
    last_seq: int = 0


@dataclass(frozen=True, slots=True)
class Invite:
    """A single-use, expiring admission to a talks; only the hash of its code is stored."""

    code_hash: bytes = field(repr=False)
    talks_id: str
    created_by: str
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class Event:
    """One sent event: its place in the talks (gapless ``seq``), sender, time and total size."""

    talks_id: str
    seq: int
    sender_device: str
    client_msg_id: str
    created_at: int
    size: int
    leaf: bytes | None = None
    #: The event's place in the talks' log, if it carried a leaf entry.
    leaf_index: int | None = None


@dataclass(frozen=True, slots=True)
class Append:
    """The outcome of appending an event: the event, and whether this call created it."""

    event: Event
    created: bool
    #: The talks' log size once the call returned (after the append, if one was made).
    tree_size: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """A ciphertext addressed to one device, at that device's gapless sync position."""

    recipient_device: str
    position: int
    talks_id: str
    seq: int
    sender_device: str
    created_at: int
    ciphertext: bytes = field(repr=False)
    #: The UTC day (days since the epoch) it was acknowledged, if it was.
    acked_day: int | None = None


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token's stored form: its hash, its device and when it stops working."""

    token_hash: bytes = field(repr=False)
    device_id: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class Blob:
    """A document's ciphertext as the host holds it: declared chunk count and size, and the
    indexes (and total bytes) of the chunks stored so far."""

    talks_id: str
    blob_id: str
    owner_device: str
    chunks: int
    size: int
    created_at: int
    held: tuple[int, ...] = ()
    stored: int = 0

    @property
    def complete(self) -> bool:
        """Whether every declared chunk is held, adding up to the declared size."""
        return len(self.held) == self.chunks and self.stored == self.size

    @property
    def missing(self) -> list[int]:
        """The indexes still to upload, in order (what a resumed upload sends)."""
        held = set(self.held)
        return [i for i in range(self.chunks) if i not in held]


class Store(Protocol):
    """Persistence for the host. Implemented by SQLite and PostgreSQL; tested on both."""

    def migrate(self) -> int:
        """Apply every migration not yet applied (idempotent); return the schema version."""
        ...

    def schema_version(self) -> int:
        """The highest migration applied (0 on an empty database)."""
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...

    # --- devices ---

    def add_device(self, device: Device) -> None:
        """Register a device (and its identity, if new). Duplicate id or key: StoreConflict."""
        ...

    def get_device(self, device_id: str) -> Device | None:
        """The device with this id, revoked or not; None if unknown."""
        ...

    def identity_devices(self, identity_key: bytes) -> list[Device]:
        """Every device of an identity, in registration order."""
        ...

    def revoke_device(self, device_id: str, at: int) -> Device | None:
        """Mark the device revoked (keeping the first revocation time); None if unknown."""
        ...

    # --- one-time keys ---

    def add_one_time_keys(self, device_id: str, keys: Sequence[OneTimeKey], at: int) -> None:
        """Store a batch of one-time keys; any duplicate key id rejects the whole batch."""
        ...

    def claim_one_time_key(
        self, device_id: str, claimed_by: str, at: int, key_id: str | None = None
    ) -> OneTimeKey | None:
        """Hand out one unclaimed key of the device exactly once; once none is left, its
        fallback key (``fallback=True``, not used up); None if it has neither.

        With ``key_id``, claim that key: OneTimeKeyClaimed if it was claimed already.
        """
        ...

    def set_fallback_key(self, key: OneTimeKey, at: int) -> None:
        """Store the device's fallback key, replacing the one it had."""
        ...

    def has_fallback_key(self, device_id: str) -> bool:
        """Whether the device uploaded a fallback key."""
        ...

    def shares_talks(self, device_id: str, other_id: str) -> bool:
        """Whether both devices were admitted to one talks (or are the same device)."""
        ...

    def invite_reaches(self, code_hash: bytes, device_id: str, at: int) -> bool:
        """Whether a live invite (unused, unexpired at ``at``) is to a talks the device is in."""
        ...

    def count_one_time_keys(self, device_id: str) -> int:
        """How many unclaimed one-time keys the device has."""
        ...

    # --- talks and admission ---

    def create_talks(self, talks: Talks) -> None:
        """Create a talks and admit its creator device."""
        ...

    def get_talks(self, talks_id: str) -> Talks | None:
        """The talks with this id; None if unknown."""
        ...

    def is_admitted(self, talks_id: str, device_id: str) -> bool:
        """Whether the device was admitted to the talks (revocation is checked separately)."""
        ...

    def members(self, talks_id: str) -> list[Device]:
        """The devices admitted to the talks, in admission order."""
        ...

    def add_invite(self, invite: Invite) -> None:
        """Store an invite (by its code's hash)."""
        ...

    def accept_invite(self, code_hash: bytes, device_id: str, at: int) -> str:
        """Use an invite once and admit the device; return the talks id.

        InviteInvalid if the code is unknown, used or expired at ``at``.
        """
        ...

    # --- events and deliveries ---

    def append_event(
        self,
        talks_id: str,
        sender_device: str,
        client_msg_id: str,
        at: int,
        ciphertexts: Mapping[str, bytes],
        leaf: bytes | None = None,
    ) -> Append:
        """Append an event with one ciphertext per recipient device, atomically.

        With ``leaf`` (a 32-byte commitment) the entry becomes the next leaf of the talks' log
        in the same transaction: an acknowledged event is always in the log.

        The talks gets the next gapless ``seq``; each recipient gets the next gapless position.
        The same ``(talks, sender, client_msg_id)`` again returns the first event unchanged.
        NotFound if the talks is unknown; Forbidden (nothing stored) if the sender or any
        recipient is not an admitted, unrevoked device of the talks.
        """
        ...

    def get_event(self, talks_id: str, seq: int) -> Event | None:
        """The event at ``seq`` in the talks; None if absent."""
        ...

    def deliveries(self, device_id: str, since: int, limit: int) -> list[Delivery]:
        """The device's deliveries with position > ``since``, oldest first, at most ``limit``."""
        ...

    def last_position(self, device_id: str) -> int:
        """The device's latest delivery position (0 if none)."""
        ...

    def ack(self, device_id: str, positions: Sequence[int], at: int) -> int:
        """Mark the device's deliveries at these positions as acknowledged (keeping only the UTC
        day of ``at``); return how many were newly marked."""
        ...

    def purge_acknowledged(self, at: int, retention_days: int) -> int:
        """Delete deliveries acknowledged more than ``retention_days`` days before ``at``;
        events and the record are untouched. Returns how many went."""
        ...

    def watch(self, wake: Callable[[list[str]], None]) -> Callable[[], None]:
        """Call ``wake(device_ids)`` (from another thread) whenever a send committed by *any*
        process on this database addressed those devices; returns the function that stops it.
        SQLite, one process's file, never calls it (the host wakes its own waiters)."""
        ...

    # --- the record (each talks' Merkle log) ---

    def log_append(self, talks_id: str, entries: Sequence[bytes]) -> int:
        """Append leaf entries in one transaction (each node written once); the new size."""
        ...

    def log_size(self, talks_id: str) -> int:
        """The number of leaves in the talks' log; NotFound if the talks is unknown."""
        ...

    def log_nodes(
        self, talks_id: str, addresses: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """Stored complete-subtree hashes at ``(level, index)`` addresses (absent ones omitted)."""
        ...

    def log_entries(self, talks_id: str, start: int, end: int) -> list[bytes]:
        """The leaf entries at indexes ``[start, end)``, in order."""
        ...

    def save_checkpoint(self, talks_id: str, size: int, note: str) -> None:
        """Keep a signed checkpoint at ``size`` (the first one stored per size wins)."""
        ...

    def latest_checkpoint(self, talks_id: str) -> tuple[int, str] | None:
        """The largest stored checkpoint as ``(size, note)``; None if none."""
        ...

    # --- blobs (documents' ciphertext) ---

    def declare_blob(self, blob: Blob) -> Blob:
        """Declare a blob (its owner, chunk count and size); the same declaration again returns
        its current state; StoreConflict if the id is taken otherwise in that talks."""
        ...

    def get_blob(self, talks_id: str, blob_id: str) -> Blob | None:
        """The blob and which chunks it holds; None if undeclared."""
        ...

    def put_blob_chunk(
        self, talks_id: str, blob_id: str, device_id: str, index: int, data: bytes
    ) -> Blob:
        """Store a chunk of the device's own blob, once (the same bytes again are accepted;
        other bytes are StoreConflict); NotFound, Forbidden or InputError change nothing."""
        ...

    def blob_chunk(self, talks_id: str, blob_id: str, index: int) -> bytes | None:
        """A held chunk's bytes; None if not held."""
        ...

    def purge_abandoned_blobs(self, declared_before: int) -> int:
        """Delete every incomplete blob declared before ``declared_before`` (an upload given up)
        with its chunks; return how many blobs went. Complete blobs are never touched."""
        ...

    # --- authentication ---

    def add_challenge(self, nonce: bytes, device_id: str, expires_at: int) -> None:
        """Store a single-use challenge issued to a device."""
        ...

    def consume_challenge(self, nonce: bytes, device_id: str, at: int) -> ChallengeOutcome:
        """Use a challenge once; say whether it was fresh, replayed, expired or unknown."""
        ...

    def add_token(self, token: Token) -> None:
        """Store a bearer token (by its hash)."""
        ...

    def get_token(self, token_hash: bytes) -> Token | None:
        """The token with this hash; None if unknown."""
        ...

    def purge_expired(self, at: int) -> int:
        """Delete challenges and tokens expired at ``at``; return how many rows went."""
        ...

    # --- inspection ---

    def counts(self) -> dict[str, int]:
        """Row counts per table (for tests and operators; reveals nothing beyond sizes)."""
        ...
