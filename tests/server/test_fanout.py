"""Several host processes on one PostgreSQL: a send through one wakes a long poll on another.

Each host keeps its waiters in its own memory; PostgreSQL's ``LISTEN``/``NOTIFY`` carries the
recipients of every committed send to every host on the database, so a device may long-poll any
host behind a load balancer and still hear of a delivery at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.server.conftest import Dev, admit, create_talks, running_host, send
from tests.store.embedded import new_database

pytestmark = pytest.mark.postgres

#: Seconds the long poll may wait; a poll that is woken returns long before.
POLL = 20


def test_a_send_on_one_host_wakes_a_long_poll_on_another(postgres_server: Any) -> None:
    """Bob long-polls host B; Alice sends through host A: Bob's poll returns the delivery well
    before its timeout (without the notification it would sleep the whole timeout)."""
    db_url = new_database(postgres_server)
    with (
        running_host(db_url) as first,
        running_host(db_url) as second,
        first.client() as a,
        second.client() as b,
    ):
        alice, bob = Dev.new().join(a), Dev.new().join(a)
        bob.login(b)
        talks = create_talks(a, alice)
        admit(a, talks, alice, bob)
        got: dict[str, Any] = {}

        def poll() -> None:
            started = time.monotonic()
            response = b.get("/v1/sync", params={"timeout": POLL}, headers=bob.auth)
            got["elapsed"] = time.monotonic() - started
            got["deliveries"] = response.json()["deliveries"]

        waiter = threading.Thread(target=poll)
        waiter.start()
        time.sleep(1.0)  # the poll is waiting on host B
        assert send(a, talks, alice, {bob: b"sealed"}, "m1").status_code == 201
        waiter.join(timeout=POLL + 10)
    assert [d["seq"] for d in got["deliveries"]] == [1]
    assert got["elapsed"] < POLL / 2
