"""Persistence for the host behind one interface, on SQLite (embedded) or PostgreSQL.

:func:`open_store` picks the engine from a URL (``sqlite:///path`` or ``postgresql://...``);
callers depend only on :class:`Store`. Schema changes are numbered SQL files in ``migrations/``,
applied by :meth:`Store.migrate`.
"""

from __future__ import annotations

from pathlib import Path

from backchannel.errors import InputError
from backchannel.store.base import (
    Append,
    Blob,
    ChallengeOutcome,
    Delivery,
    Device,
    Event,
    Invite,
    OneTimeKey,
    Store,
    Talks,
    Token,
)

__all__ = [
    "Append",
    "Blob",
    "ChallengeOutcome",
    "Delivery",
    "Device",
    "Event",
    "Invite",
    "OneTimeKey",
    "Store",
    "Talks",
    "Token",
    "open_store",
]

_SQLITE_PREFIX = "sqlite:///"


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a URL names and (by default) bring its schema up to date.

    ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` for SQLite (parent
    directories are created); ``postgresql://...`` (or ``postgres://``) for PostgreSQL.
    """
    store: Store
    if url.startswith(_SQLITE_PREFIX):
        from backchannel.store.sqlite import SQLiteStore

        path = Path(url[len(_SQLITE_PREFIX) :])
        if not path.name:
            raise InputError("A sqlite URL needs a file path.", detail={"url": url})
        path.parent.mkdir(parents=True, exist_ok=True)
        store = SQLiteStore(path)
    elif url.startswith(("postgresql://", "postgres://")):
        from backchannel.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        raise InputError(
            "The database URL must start with sqlite:/// or postgresql://.",
            detail={"url_scheme": url.split(":", 1)[0]},
        )
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store
