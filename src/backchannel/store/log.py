"""The store's half of the record: each talks' Merkle log, written once for both engines.

:class:`LogQueries` is mixed into :class:`~backchannel.store.sql.SqlStore`. Tables (migration
``0002_record``): ``record_leaves`` holds the 32-byte leaf entries (opaque commitments),
``record_nodes`` the hashes of complete subtrees addressed ``(level, idx)`` as
``docs/record.md`` defines them, ``record_checkpoints`` the signed notes, and ``talks.log_size``
the tree size. Nodes never change once written, so appending leaf ``n`` inserts ``(0, n)`` and
one node per trailing 1-bit of ``n``; a batch of ``k`` leaves writes each affected node once.
The caller holds the talks row lock (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite) while appending, so sizes stay gapless under concurrent sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from backchannel.errors import NotFound, StoreError
from backchannel.record.merkle import leaf_hash, node_hash
from backchannel.store.dialect import Dialect

Address = tuple[int, int]

#: A single query names at most this many nodes (a proof needs about 2·log2(n)).
_NODES_PER_QUERY = 128


class Cursor(Protocol):
    """The part of a DB-API cursor the store uses (sqlite3 and psycopg both provide it)."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, query: Any, params: Any = ...) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class LogQueries:
    """The record's queries; the concrete store supplies ``_transaction``, ``_run``, ``dialect``."""

    dialect: Dialect

    def _transaction(self) -> AbstractContextManager[Cursor]:
        raise NotImplementedError

    def _run(self, cur: Cursor, query: str, params: Sequence[Any] = ()) -> Cursor:
        raise NotImplementedError

    def _log_append(self, cur: Cursor, talks_id: str, size: int, entries: Sequence[bytes]) -> int:
        """Append ``entries`` after ``size`` leaves inside the caller's transaction; new size.

        The caller has locked the talks row and read ``size`` from it. Left siblings come from
        this batch when they are in it, else from the table (one read per completed level).
        """
        written: dict[Address, bytes] = {}
        for offset, entry in enumerate(entries):
            index = size + offset
            self._run(
                cur,
                "INSERT INTO record_leaves (talks_id, idx, entry) VALUES (?, ?, ?)",
                (talks_id, index, entry),
            )
            level, idx, acc = 0, index, leaf_hash(entry)
            written[(0, idx)] = acc
            while idx & 1:
                left = written.get((level, idx - 1))
                if left is None:
                    left = self._node(cur, talks_id, level, idx - 1)
                acc = node_hash(left, acc)
                level, idx = level + 1, idx >> 1
                written[(level, idx)] = acc
        for (level, idx), digest in sorted(written.items()):
            self._run(
                cur,
                "INSERT INTO record_nodes (talks_id, level, idx, hash) VALUES (?, ?, ?, ?)",
                (talks_id, level, idx, digest),
            )
        new_size = size + len(entries)
        self._run(cur, "UPDATE talks SET log_size = ? WHERE talks_id = ?", (new_size, talks_id))
        return new_size

    def _node(self, cur: Cursor, talks_id: str, level: int, idx: int) -> bytes:
        row = self._run(
            cur,
            "SELECT hash FROM record_nodes WHERE talks_id = ? AND level = ? AND idx = ?",
            (talks_id, level, idx),
        ).fetchone()
        if row is None:
            # A complete subtree left of an appended leaf always exists; its absence is damage.
            raise StoreError("The log is missing a node.", detail={"node": (level, idx)})
        return bytes(row[0])

    def _locked_log_size(self, cur: Cursor, talks_id: str) -> int:
        row = self._run(
            cur,
            "SELECT log_size FROM talks WHERE talks_id = ?" + self.dialect.for_update,
            (talks_id,),
        ).fetchone()
        if row is None:
            raise NotFound("No such talks.", detail={"talks_id": talks_id})
        return int(row[0])

    def log_append(self, talks_id: str, entries: Sequence[bytes]) -> int:
        """Append leaf entries (32-byte commitments) in one transaction; return the new size."""
        with self._transaction() as cur:
            size = self._locked_log_size(cur, talks_id)
            return self._log_append(cur, talks_id, size, entries)

    def log_size(self, talks_id: str) -> int:
        """The number of leaves in the talks' log; NotFound if the talks is unknown."""
        with self._transaction() as cur:
            row = self._run(
                cur, "SELECT log_size FROM talks WHERE talks_id = ?", (talks_id,)
            ).fetchone()
        if row is None:
            raise NotFound("No such talks.", detail={"talks_id": talks_id})
        return int(row[0])

    def log_nodes(self, talks_id: str, addresses: Iterable[Address]) -> dict[Address, bytes]:
        """The stored node hashes at these ``(level, idx)`` addresses (absent ones omitted)."""
        wanted = sorted(set(addresses))
        found: dict[Address, bytes] = {}
        with self._transaction() as cur:
            for start in range(0, len(wanted), _NODES_PER_QUERY):
                chunk = wanted[start : start + _NODES_PER_QUERY]
                where = " OR ".join("(level = ? AND idx = ?)" for _ in chunk)
                params: list[Any] = [talks_id]
                for level, idx in chunk:
                    params += [level, idx]
                rows = self._run(
                    cur,
                    f"SELECT level, idx, hash FROM record_nodes WHERE talks_id = ? AND ({where})",
                    params,
                ).fetchall()
                found.update({(int(r[0]), int(r[1])): bytes(r[2]) for r in rows})
        return found

    def log_entries(self, talks_id: str, start: int, end: int) -> list[bytes]:
        """The leaf entries at indexes ``[start, end)`` that exist, in order."""
        with self._transaction() as cur:
            rows = self._run(
                cur,
                "SELECT entry FROM record_leaves WHERE talks_id = ? AND idx >= ? AND idx < ?"
                " ORDER BY idx",
                (talks_id, start, end),
            ).fetchall()
        return [bytes(r[0]) for r in rows]

    def save_checkpoint(self, talks_id: str, size: int, note: str) -> None:
        """Keep a signed checkpoint of the talks' log at ``size`` (the first one per size wins)."""
        with self._transaction() as cur:
            known = self._run(
                cur,
                "SELECT 1 FROM record_checkpoints WHERE talks_id = ? AND size = ?",
                (talks_id, size),
            ).fetchone()
            if known is None:
                self._run(
                    cur,
                    "INSERT INTO record_checkpoints (talks_id, size, note) VALUES (?, ?, ?)",
                    (talks_id, size, note),
                )

    def latest_checkpoint(self, talks_id: str) -> tuple[int, str] | None:
        """The stored checkpoint with the largest size, as ``(size, note)``; None if none."""
        with self._transaction() as cur:
            row = self._run(
                cur,
                "SELECT size, note FROM record_checkpoints WHERE talks_id = ?"
                " ORDER BY size DESC LIMIT 1",
                (talks_id,),
            ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))
