"""Where SQLite and PostgreSQL differ, in one place.

The queries in :mod:`backchannel.store.sql` and the migration files are written once, in portable
SQL with ``?`` placeholders. A :class:`Dialect` turns them into what one engine runs: the
placeholder style, the binary column type, the wake-up notification (PostgreSQL's NOTIFY; one
SQLite file has one host process), row locks (PostgreSQL locks rows inside a transaction;
SQLite's ``BEGIN IMMEDIATE`` already serialises writers, so it needs none) and the lock that keeps
two processes from migrating the same database at once.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The PostgreSQL notification channel that carries the devices a committed send addressed.
WAKE_CHANNEL = "backchannel_wake"


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one engine spells the few things portable SQL cannot."""

    name: str
    placeholder: str
    blob_type: str
    #: Appended to a SELECT that must lock the rows it reads until the transaction ends.
    for_update: str
    #: Appended to a SELECT that takes the first row no other transaction holds.
    skip_locked: str
    #: Run first in the migration transaction so concurrent migrators queue up (or empty).
    migration_lock: str
    #: Tells every process on the database, at commit, which devices to wake (or empty).
    notify: str = ""

    def sql(self, query: str) -> str:
        """The query with this engine's placeholders."""
        if self.placeholder == "?":
            return query
        return query.replace("?", self.placeholder)

    def ddl(self, statement: str) -> str:
        """A migration statement with this engine's column types."""
        return statement.replace("BLOB", self.blob_type)


SQLITE = Dialect(
    name="sqlite",
    placeholder="?",
    blob_type="BLOB",
    for_update="",
    skip_locked="",
    migration_lock="",
)

POSTGRES = Dialect(
    name="postgresql",
    placeholder="%s",
    blob_type="BYTEA",
    for_update=" FOR UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    # An arbitrary constant key: "backchannel migrations"; released at commit.
    migration_lock="SELECT pg_advisory_xact_lock(7204916031)",
    # NOTIFY is transactional: delivered to every LISTENing session only once the send commits.
    notify=f"SELECT pg_notify('{WAKE_CHANNEL}', ?)",
)
