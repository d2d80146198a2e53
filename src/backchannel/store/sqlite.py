"""The embedded store: one SQLite file, safe across threads and crashes.

Durability: the database runs in WAL mode with ``synchronous=FULL``, so a transaction is on disk
before ``COMMIT`` returns and an acknowledged write survives ``kill -9`` (and power loss).
Concurrency: one connection guarded by a lock, and ``BEGIN IMMEDIATE`` so a writer in another
process waits (``busy_timeout``) instead of failing half-way; SQLite serialises writers anyway.
Privacy: the file is created readable by its owner only (0600; an existing file is tightened to
that), and SQLite gives its WAL and shared-memory files the database file's mode.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backchannel.errors import StoreConflict, StoreError
from backchannel.store.dialect import SQLITE
from backchannel.store.sql import Cursor, SqlStore

_BUSY_TIMEOUT_MS = 10_000


class SQLiteStore(SqlStore):
    """The :class:`~backchannel.store.base.Store` on a SQLite file (created if absent)."""

    dialect = SQLITE

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            _private(self.path)
            # isolation_level=None: the driver never opens transactions on its own; we do.
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
            self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                "The database could not be opened.", detail={"path": str(self.path)}
            ) from exc

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                cur.close()
                raise StoreError("The database is unavailable.") from exc
            try:
                yield cur
            except sqlite3.IntegrityError as exc:
                self._conn.rollback()
                raise StoreConflict(
                    "This conflicts with stored data.", detail={"reason": str(exc)}
                ) from exc
            except sqlite3.Error as exc:
                self._conn.rollback()
                raise StoreError("The database failed.", detail={"reason": str(exc)}) from exc
            except BaseException:
                self._conn.rollback()
                raise
            else:
                try:
                    cur.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._conn.rollback()
                    raise StoreError(
                        "The database failed to commit.", detail={"reason": str(exc)}
                    ) from exc
            finally:
                cur.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()


def _private(path: Path) -> None:
    """Create the database file with mode 0600, or take group and other access from it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
