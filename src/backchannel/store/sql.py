"""The store's queries, written once for both engines.

:class:`SqlStore` implements :class:`~backchannel.store.base.Store` over any DB-API cursor; the
SQLite and PostgreSQL subclasses supply only connections, transactions and the translation of
driver exceptions. Ordering rules that keep numbers gapless under concurrency: a send first locks
its talks row, then the recipients' device rows in sorted order (so two sends never wait on each
other in a cycle), and every counter is bumped inside the same transaction that uses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchannel.errors import Forbidden, InviteInvalid, NotFound
from backchannel.store.base import (
    Append,
    ChallengeOutcome,
    Delivery,
    Device,
    Event,
    Invite,
    Talks,
    Token,
)
from backchannel.store.blobs import BlobQueries
from backchannel.store.dialect import Dialect
from backchannel.store.keys import KeyQueries
from backchannel.store.log import Cursor, LogQueries

__all__ = ["MIGRATIONS_DIR", "TABLES", "Cursor", "Migration", "SqlStore", "load_migrations"]

#: Migration files live next to this module and ship with the package.
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

TABLES = (
    "identities",
    "devices",
    "one_time_keys",
    "fallback_keys",
    "talks",
    "talks_members",
    "invites",
    "events",
    "deliveries",
    "challenges",
    "tokens",
    "record_leaves",
    "record_nodes",
    "record_checkpoints",
    "blobs",
    "blob_chunks",
)

_DEVICE_COLUMNS = (
    "device_id, identity_key, curve25519, ed25519, certificate, created_at, revoked_at"
)
#: Device ids per wake-up notification (PostgreSQL payloads stay under 8,000 bytes).
_WAKE_BATCH = 100
#: Milliseconds in a day: acknowledgements are kept to the day.
DAY_MS = 86_400_000
_EVENT_COLUMNS = "talks_id, seq, sender_device, client_msg_id, created_at, size, leaf, leaf_index"


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema migration file."""

    version: int
    name: str
    statements: tuple[str, ...]


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read ``NNNN_name.sql`` files in order; statements are split on ``;``, comments dropped."""
    found = []
    for path in sorted(directory.iterdir()):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            continue
        lines = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("--")
        ]
        statements = tuple(s.strip() for s in "\n".join(lines).split(";") if s.strip())
        found.append(Migration(int(match.group(1)), match.group(2), statements))
    return found


def _device(row: Sequence[Any]) -> Device:
    return Device(
        device_id=row[0],
        identity_key=bytes(row[1]),
        curve25519=bytes(row[2]),
        ed25519=bytes(row[3]),
        certificate=bytes(row[4]),
        created_at=row[5],
        revoked_at=row[6],
    )


def _event(row: Sequence[Any]) -> Event:
    leaf = None if row[6] is None else bytes(row[6])
    return Event(row[0], row[1], row[2], row[3], row[4], row[5], leaf, row[7])


class SqlStore(KeyQueries, LogQueries, BlobQueries):
    """The queries of the store; subclasses provide ``_transaction`` and the dialect.

    The record's queries (the per-talks Merkle log) come from :class:`LogQueries`, the keys'
    and who may see a device from :class:`KeyQueries`, documents' blobs from
    :class:`BlobQueries`.
    """

    dialect: Dialect

    def _transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor inside one transaction: committed on exit, rolled back on any error."""
        raise NotImplementedError

    def _run(self, cur: Cursor, query: str, params: Sequence[Any] = ()) -> Cursor:
        cur.execute(self.dialect.sql(query), tuple(params))
        return cur

    def close(self) -> None:
        """Release connections."""
        raise NotImplementedError

    def watch(self, wake: Callable[[list[str]], None]) -> Callable[[], None]:
        """Nothing to watch by default (one process's SQLite file): a no-op stopper."""
        return lambda: None

    def _notify(self, cur: Cursor, device_ids: Sequence[str]) -> None:
        """Tell every process on the database to wake these devices (PostgreSQL, at commit)."""
        if not self.dialect.notify:
            return
        batch: list[str] = []
        for device_id in device_ids:
            batch.append(device_id)
            if len(batch) == _WAKE_BATCH:
                self._run(cur, self.dialect.notify, (",".join(batch),))
                batch = []
        if batch:
            self._run(cur, self.dialect.notify, (",".join(batch),))

    # --- schema ---

    def migrate(self) -> int:
        """Apply every migration not yet applied; return the schema version."""
        with self._transaction() as cur:
            if self.dialect.migration_lock:
                cur.execute(self.dialect.migration_lock)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
            )
            applied = {
                row[0] for row in self._run(cur, "SELECT version FROM schema_version").fetchall()
            }
            for migration in load_migrations():
                if migration.version in applied:
                    continue
                for statement in migration.statements:
                    cur.execute(self.dialect.ddl(statement))
                self._run(
                    cur,
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                    (migration.version, migration.name),
                )
        return self.schema_version()

    def schema_version(self) -> int:
        """The highest migration applied (0 if none)."""
        with self._transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
            )
            row = self._run(cur, "SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    # --- devices ---

    def add_device(self, device: Device) -> None:
        """Register a device and, if new, its identity."""
        with self._transaction() as cur:
            known = self._run(
                cur,
                "SELECT 1 FROM identities WHERE identity_key = ?",
                (device.identity_key,),
            ).fetchone()
            if known is None:
                self._run(
                    cur,
                    "INSERT INTO identities (identity_key, created_at) VALUES (?, ?)",
                    (device.identity_key, device.created_at),
                )
            self._run(
                cur,
                f"INSERT INTO devices ({_DEVICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    device.device_id,
                    device.identity_key,
                    device.curve25519,
                    device.ed25519,
                    device.certificate,
                    device.created_at,
                    device.revoked_at,
                ),
            )

    def get_device(self, device_id: str) -> Device | None:
        """The device with this id, or None."""
        with self._transaction() as cur:
            row = self._run(
                cur, f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE device_id = ?", (device_id,)
            ).fetchone()
        return None if row is None else _device(row)

    def identity_devices(self, identity_key: bytes) -> list[Device]:
        """Every device of an identity, in registration order."""
        with self._transaction() as cur:
            rows = self._run(
                cur,
                f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE identity_key = ?"
                " ORDER BY created_at, device_id",
                (identity_key,),
            ).fetchall()
        return [_device(row) for row in rows]

    def revoke_device(self, device_id: str, at: int) -> Device | None:
        """Mark the device revoked, keeping the first revocation time."""
        with self._transaction() as cur:
            self._run(
                cur,
                "UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL",
                (at, device_id),
            )
            self._notify(cur, [device_id])
            row = self._run(
                cur, f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE device_id = ?", (device_id,)
            ).fetchone()
        return None if row is None else _device(row)

    # --- talks and admission ---

    def create_talks(self, talks: Talks) -> None:
        """Create a talks and admit its creator."""
        with self._transaction() as cur:
            self._run(
                cur,
                "INSERT INTO talks (talks_id, creator_device, created_at, last_seq)"
                " VALUES (?, ?, ?, 0)",
                (talks.talks_id, talks.creator_device, talks.created_at),
            )
            self._run(
                cur,
                "INSERT INTO talks_members (talks_id, device_id, admitted_at) VALUES (?, ?, ?)",
                (talks.talks_id, talks.creator_device, talks.created_at),
            )

    def get_talks(self, talks_id: str) -> Talks | None:
        """The talks with this id, or None."""
        with self._transaction() as cur:
            row = self._run(
                cur,
                "SELECT talks_id, creator_device, created_at, last_seq FROM talks"
                " WHERE talks_id = ?",
                (talks_id,),
            ).fetchone()
        return None if row is None else Talks(row[0], row[1], row[2], row[3])

    def is_admitted(self, talks_id: str, device_id: str) -> bool:
        """Whether the device was admitted to the talks."""
        with self._transaction() as cur:
            row = self._run(
                cur,
                "SELECT 1 FROM talks_members WHERE talks_id = ? AND device_id = ?",
                (talks_id, device_id),
            ).fetchone()
        return row is not None

    def members(self, talks_id: str) -> list[Device]:
        """The devices admitted to the talks, in admission order."""
        columns = ", ".join(f"d.{c.strip()}" for c in _DEVICE_COLUMNS.split(","))
        with self._transaction() as cur:
            rows = self._run(
                cur,
                f"SELECT {columns} FROM talks_members m"
                " JOIN devices d ON d.device_id = m.device_id"
                " WHERE m.talks_id = ? ORDER BY m.admitted_at, d.device_id",
                (talks_id,),
            ).fetchall()
        return [_device(row) for row in rows]

    def add_invite(self, invite: Invite) -> None:
        """Store an invite by its code's hash."""
        with self._transaction() as cur:
            self._run(
                cur,
                "INSERT INTO invites (code_hash, talks_id, created_by, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    invite.code_hash,
                    invite.talks_id,
                    invite.created_by,
                    invite.created_at,
                    invite.expires_at,
                ),
            )

    def accept_invite(self, code_hash: bytes, device_id: str, at: int) -> str:
        """Use an invite once and admit the device; return the talks id."""
        with self._transaction() as cur:
            used = self._run(
                cur,
                "UPDATE invites SET used_at = ?, used_by = ?"
                " WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
                (at, device_id, code_hash, at),
            ).rowcount
            if used != 1:
                raise InviteInvalid("This invite is unknown, already used or expired.")
            row = self._run(
                cur, "SELECT talks_id FROM invites WHERE code_hash = ?", (code_hash,)
            ).fetchone()
            talks_id: str = row[0]
            member = self._run(
                cur,
                "SELECT 1 FROM talks_members WHERE talks_id = ? AND device_id = ?",
                (talks_id, device_id),
            ).fetchone()
            if member is None:
                self._run(
                    cur,
                    "INSERT INTO talks_members (talks_id, device_id, admitted_at) VALUES (?, ?, ?)",
                    (talks_id, device_id, at),
                )
        return talks_id

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
        """Append an event and its per-device ciphertexts atomically (idempotent per id).

        With ``leaf``, the entry is appended to the talks' log in the same transaction.
        """
        with self._transaction() as cur:
            talks = self._run(
                cur,
                "SELECT last_seq, log_size FROM talks WHERE talks_id = ?" + self.dialect.for_update,
                (talks_id,),
            ).fetchone()
            if talks is None:
                raise NotFound("No such talks.", detail={"talks_id": talks_id})
            # Checked after the talks row is locked, so a racing duplicate has committed.
            existing = self._run(
                cur,
                f"SELECT {_EVENT_COLUMNS} FROM events"
                " WHERE talks_id = ? AND sender_device = ? AND client_msg_id = ?",
                (talks_id, sender_device, client_msg_id),
            ).fetchone()
            if existing is not None:
                return Append(_event(existing), created=False, tree_size=int(talks[1]))
            admitted = {
                row[0]
                for row in self._run(
                    cur,
                    "SELECT m.device_id FROM talks_members m"
                    " JOIN devices d ON d.device_id = m.device_id"
                    " WHERE m.talks_id = ? AND d.revoked_at IS NULL",
                    (talks_id,),
                ).fetchall()
            }
            outsiders = sorted({sender_device, *ciphertexts} - admitted)
            if outsiders:
                raise Forbidden(
                    "Every device in a send must be admitted to the talks.",
                    detail={"talks_id": talks_id, "devices": outsiders},
                )
            seq = int(talks[0]) + 1
            size = sum(len(c) for c in ciphertexts.values())
            self._run(cur, "UPDATE talks SET last_seq = ? WHERE talks_id = ?", (seq, talks_id))
            tree_size = int(talks[1])
            leaf_index = None
            if leaf is not None:
                leaf_index = tree_size
                tree_size = self._log_append(cur, talks_id, tree_size, [leaf])
            self._run(
                cur,
                f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (talks_id, seq, sender_device, client_msg_id, at, size, leaf, leaf_index),
            )
            for recipient in sorted(ciphertexts):
                position = self._run(
                    cur,
                    "UPDATE devices SET last_position = last_position + 1"
                    " WHERE device_id = ? RETURNING last_position",
                    (recipient,),
                ).fetchone()[0]
                self._run(
                    cur,
                    "INSERT INTO deliveries (recipient_device, pos, talks_id, seq, ciphertext)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (recipient, position, talks_id, seq, ciphertexts[recipient]),
                )
            self._notify(cur, sorted(ciphertexts))
        event = Event(talks_id, seq, sender_device, client_msg_id, at, size, leaf, leaf_index)
        return Append(event, created=True, tree_size=tree_size)

    def get_event(self, talks_id: str, seq: int) -> Event | None:
        """The event at ``seq`` in the talks, or None."""
        with self._transaction() as cur:
            row = self._run(
                cur,
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE talks_id = ? AND seq = ?",
                (talks_id, seq),
            ).fetchone()
        return None if row is None else _event(row)

    def deliveries(self, device_id: str, since: int, limit: int) -> list[Delivery]:
        """The device's deliveries after ``since``, oldest first."""
        with self._transaction() as cur:
            rows = self._run(
                cur,
                "SELECT x.recipient_device, x.pos, x.talks_id, x.seq, e.sender_device,"
                " e.created_at, x.ciphertext, x.acked_day"
                " FROM deliveries x JOIN events e ON e.talks_id = x.talks_id AND e.seq = x.seq"
                " WHERE x.recipient_device = ? AND x.pos > ? ORDER BY x.pos LIMIT ?",
                (device_id, since, limit),
            ).fetchall()
        return [Delivery(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), r[7]) for r in rows]

    def last_position(self, device_id: str) -> int:
        """The device's latest delivery position."""
        with self._transaction() as cur:
            row = self._run(
                cur, "SELECT last_position FROM devices WHERE device_id = ?", (device_id,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def ack(self, device_id: str, positions: Sequence[int], at: int) -> int:
        """Mark deliveries acknowledged on the UTC day of ``at``; return how many were newly
        marked. Only the day is kept (until the delivery is purged), never the moment."""
        marked = 0
        day = at // DAY_MS
        with self._transaction() as cur:
            for position in sorted(set(positions)):
                marked += self._run(
                    cur,
                    "UPDATE deliveries SET acked_day = ?"
                    " WHERE recipient_device = ? AND pos = ? AND acked_day IS NULL",
                    (day, device_id, position),
                ).rowcount
        return marked

    def purge_acknowledged(self, at: int, retention_days: int) -> int:
        """Delete deliveries acknowledged more than ``retention_days`` whole days before ``at``
        (their ciphertexts with them); events and the record stay. Returns how many went."""
        cutoff = at // DAY_MS - retention_days
        with self._transaction() as cur:
            return int(
                self._run(
                    cur,
                    "DELETE FROM deliveries WHERE acked_day IS NOT NULL AND acked_day < ?",
                    (cutoff,),
                ).rowcount
            )

    # --- authentication ---

    def add_challenge(self, nonce: bytes, device_id: str, expires_at: int) -> None:
        """Store a single-use challenge."""
        with self._transaction() as cur:
            self._run(
                cur,
                "INSERT INTO challenges (nonce, device_id, expires_at) VALUES (?, ?, ?)",
                (nonce, device_id, expires_at),
            )

    def consume_challenge(self, nonce: bytes, device_id: str, at: int) -> ChallengeOutcome:
        """Use a challenge once."""
        with self._transaction() as cur:
            used = self._run(
                cur,
                "UPDATE challenges SET used_at = ?"
                " WHERE nonce = ? AND device_id = ? AND used_at IS NULL AND expires_at > ?",
                (at, nonce, device_id, at),
            ).rowcount
            if used == 1:
                return "consumed"
            row = self._run(
                cur,
                "SELECT used_at FROM challenges WHERE nonce = ? AND device_id = ?",
                (nonce, device_id),
            ).fetchone()
        if row is None:
            return "unknown"
        return "replayed" if row[0] is not None else "expired"

    def add_token(self, token: Token) -> None:
        """Store a bearer token by its hash."""
        with self._transaction() as cur:
            self._run(
                cur,
                "INSERT INTO tokens (token_hash, device_id, expires_at) VALUES (?, ?, ?)",
                (token.token_hash, token.device_id, token.expires_at),
            )

    def get_token(self, token_hash: bytes) -> Token | None:
        """The token with this hash, or None."""
        with self._transaction() as cur:
            row = self._run(
                cur,
                "SELECT token_hash, device_id, expires_at FROM tokens WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
        return None if row is None else Token(bytes(row[0]), row[1], row[2])

    def purge_expired(self, at: int) -> int:
        """Delete expired tokens and challenges (used ones too: replays stay rejected as
        unknown once expired)."""
        with self._transaction() as cur:
            removed = self._run(cur, "DELETE FROM tokens WHERE expires_at <= ?", (at,)).rowcount
            removed += self._run(
                cur, "DELETE FROM challenges WHERE expires_at <= ?", (at,)
            ).rowcount
        return removed

    # --- inspection ---

    def counts(self) -> dict[str, int]:
        """Row counts per table."""
        with self._transaction() as cur:
            return {
                table: int(self._run(cur, f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in TABLES
            }
