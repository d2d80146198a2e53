"""The store's key queries: one-time keys, fallback keys, and who may claim or see a device.

Mixed into :class:`~backchannel.store.sql.SqlStore`, written once for both engines. A one-time key
is handed out exactly once (the ``claimed_at IS NULL`` guard makes the claim a compare-and-set);
once a device has none left, its **fallback key** is handed out instead and kept, so an Olm
session can always start (vodozemac replaces a fallback key when the device uploads a new one).

A device's keys and record are only for its **peers**: devices admitted to a talks it is admitted
to, or holding a live invite to one (unused, unexpired). Anyone else is told the device does not
exist, so a registered outsider can neither exhaust its keys nor learn that it is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from backchannel.errors import OneTimeKeyClaimed
from backchannel.store.base import OneTimeKey
from backchannel.store.dialect import Dialect
from backchannel.store.log import Cursor


class KeyQueries:
    """Key and visibility queries; the concrete store supplies ``_transaction``, ``_run``."""

    dialect: Dialect

    def _transaction(self) -> AbstractContextManager[Cursor]:
        raise NotImplementedError

    def _run(self, cur: Cursor, query: str, params: Sequence[Any] = ()) -> Cursor:
        raise NotImplementedError

    # --- one-time and fallback keys ---

    def add_one_time_keys(self, device_id: str, keys: Sequence[OneTimeKey], at: int) -> None:
        """Store a batch of one-time keys atomically."""
        with self._transaction() as cur:
            for key in keys:
                self._run(
                    cur,
                    "INSERT INTO one_time_keys (device_id, key_id, public_key, uploaded_at)"
                    " VALUES (?, ?, ?, ?)",
                    (device_id, key.key_id, key.public_key, at),
                )

    def set_fallback_key(self, key: OneTimeKey, at: int) -> None:
        """Store the device's fallback key, replacing the one it had."""
        with self._transaction() as cur:
            self._run(cur, "DELETE FROM fallback_keys WHERE device_id = ?", (key.device_id,))
            self._run(
                cur,
                "INSERT INTO fallback_keys (device_id, key_id, public_key, uploaded_at)"
                " VALUES (?, ?, ?, ?)",
                (key.device_id, key.key_id, key.public_key, at),
            )

    def has_fallback_key(self, device_id: str) -> bool:
        """Whether the device uploaded a fallback key."""
        with self._transaction() as cur:
            row = self._run(
                cur, "SELECT 1 FROM fallback_keys WHERE device_id = ?", (device_id,)
            ).fetchone()
        return row is not None

    def claim_one_time_key(
        self, device_id: str, claimed_by: str, at: int, key_id: str | None = None
    ) -> OneTimeKey | None:
        """Hand out one unclaimed key exactly once, else the fallback key; None if neither."""
        with self._transaction() as cur:
            row = self._unclaimed(cur, device_id, key_id)
            if row is None:
                return self._fallback(cur, device_id, key_id)
            # The guard on claimed_at makes the claim a compare-and-set: of two racing
            # claimers of the same row, exactly one updates it.
            claimed = self._run(
                cur,
                "UPDATE one_time_keys SET claimed_at = ?, claimed_by = ?"
                " WHERE device_id = ? AND key_id = ? AND claimed_at IS NULL",
                (at, claimed_by, device_id, row[0]),
            ).rowcount
            if claimed != 1:
                raise OneTimeKeyClaimed(
                    "This one-time key was already claimed.",
                    detail={"device_id": device_id, "key_id": row[0]},
                )
        return OneTimeKey(device_id, row[0], bytes(row[1]))

    def _unclaimed(self, cur: Cursor, device_id: str, key_id: str | None) -> Any:
        if key_id is None:
            return self._run(
                cur,
                "SELECT key_id, public_key FROM one_time_keys"
                " WHERE device_id = ? AND claimed_at IS NULL"
                " ORDER BY uploaded_at, key_id LIMIT 1" + self.dialect.skip_locked,
                (device_id,),
            ).fetchone()
        return self._run(
            cur,
            "SELECT key_id, public_key FROM one_time_keys WHERE device_id = ? AND key_id = ?",
            (device_id, key_id),
        ).fetchone()

    def _fallback(self, cur: Cursor, device_id: str, key_id: str | None) -> OneTimeKey | None:
        row = self._run(
            cur, "SELECT key_id, public_key FROM fallback_keys WHERE device_id = ?", (device_id,)
        ).fetchone()
        if row is None or (key_id is not None and key_id != row[0]):
            return None
        return OneTimeKey(device_id, row[0], bytes(row[1]), fallback=True)

    def count_one_time_keys(self, device_id: str) -> int:
        """How many unclaimed one-time keys the device has."""
        with self._transaction() as cur:
            row = self._run(
                cur,
                "SELECT COUNT(*) FROM one_time_keys WHERE device_id = ? AND claimed_at IS NULL",
                (device_id,),
            ).fetchone()
        return int(row[0])

    # --- who may see a device ---

    def shares_talks(self, device_id: str, other_id: str) -> bool:
        """Whether both devices were admitted to one talks (or are the same device)."""
        if device_id == other_id:
            return True
        with self._transaction() as cur:
            row = self._run(
                cur,
                "SELECT 1 FROM talks_members a JOIN talks_members b ON a.talks_id = b.talks_id"
                " WHERE a.device_id = ? AND b.device_id = ? LIMIT 1",
                (device_id, other_id),
            ).fetchone()
        return row is not None

    def invite_reaches(self, code_hash: bytes, device_id: str, at: int) -> bool:
        """Whether a live invite (unused, unexpired at ``at``) is to a talks the device is in."""
        with self._transaction() as cur:
            row = self._run(
                cur,
                "SELECT 1 FROM invites i JOIN talks_members m ON m.talks_id = i.talks_id"
                " WHERE i.code_hash = ? AND i.used_at IS NULL AND i.expires_at > ?"
                " AND m.device_id = ?",
                (code_hash, at, device_id),
            ).fetchone()
        return row is not None
