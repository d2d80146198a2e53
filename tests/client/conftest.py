"""Client tests run against a real host on 127.0.0.1, on SQLite and on PostgreSQL."""

from tests.server.conftest import live_host
from tests.store.embedded import postgres_server

__all__ = ["live_host", "postgres_server"]
