"""The production store: PostgreSQL through psycopg 3.

Connections come from a small pool (each thread borrows one per transaction). Transactions run
at READ COMMITTED; the queries in :mod:`backchannel.store.sql` lock the rows whose counters they
bump, so sequence numbers stay gapless and one-time keys are claimed once under concurrency.
Durability is PostgreSQL's: a transaction is acknowledged after its WAL record is flushed.
:meth:`PostgresStore.watch` LISTENs on one more connection, so that every host process on the
database hears which devices a committed send addressed (``NOTIFY``, sent in the send's own
transaction by :mod:`backchannel.store.sql`) and wakes its long polls and sockets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors

from backchannel.errors import StoreConflict, StoreError
from backchannel.store.dialect import POSTGRES, WAKE_CHANNEL
from backchannel.store.sql import Cursor, SqlStore

_MAX_IDLE = 8
_CONNECT_TIMEOUT_S = 10
#: How often the listener looks up from waiting, to see whether it was told to stop.
_LISTEN_TICK_S = 0.5
#: How long the listener waits before reconnecting after losing its connection.
_RECONNECT_S = 1.0

_log = logging.getLogger("backchannel.store")


class PostgresStore(SqlStore):
    """The :class:`~backchannel.store.base.Store` on a PostgreSQL database (by conninfo/URL)."""

    dialect = POSTGRES

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        # Fail at start-up, not on the first request, if the server cannot be reached.
        self._release(self._acquire())

    def _acquire(self) -> psycopg.Connection:
        with self._lock:
            if self._closed:
                raise StoreError("The store is closed.")
            if self._idle:
                return self._idle.pop()
        try:
            return psycopg.connect(
                self._conninfo, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
            )
        except psycopg.Error as exc:
            raise StoreError("The database could not be reached.") from exc

    def _release(self, conn: psycopg.Connection) -> None:
        with self._lock:
            if self._closed or conn.closed or conn.broken or len(self._idle) >= _MAX_IDLE:
                conn.close()
            else:
                self._idle.append(conn)

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        conn = self._acquire()
        try:
            with conn.transaction(), conn.cursor() as cur:
                yield cur
        except pg_errors.IntegrityError as exc:
            raise StoreConflict(
                "This conflicts with stored data.", detail={"reason": str(exc)}
            ) from exc
        except psycopg.Error as exc:
            raise StoreError("The database failed.", detail={"reason": str(exc)}) from exc
        finally:
            self._release(conn)

    def close(self) -> None:
        """Close every pooled connection (idempotent)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def watch(self, wake: Callable[[list[str]], None]) -> Callable[[], None]:
        """LISTEN in a background thread and call ``wake`` with the devices of each notice;
        a lost connection is reopened (waiters then wake at their own timeout meanwhile)."""
        stop = threading.Event()

        def listen() -> None:
            while not stop.is_set():
                try:
                    with psycopg.connect(
                        self._conninfo, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
                    ) as conn:
                        conn.execute(f"LISTEN {WAKE_CHANNEL}")
                        while not stop.is_set():
                            for notice in conn.notifies(timeout=_LISTEN_TICK_S):
                                wake([d for d in notice.payload.split(",") if d])
                except psycopg.Error as exc:
                    _log.warning("listening for wake-ups failed: %s", type(exc).__name__)
                    stop.wait(_RECONNECT_S)

        thread = threading.Thread(target=listen, name="backchannel-listen", daemon=True)
        thread.start()

        def stopper() -> None:
            stop.set()
            thread.join(timeout=5)

        return stopper
