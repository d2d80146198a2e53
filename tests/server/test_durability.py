"""Durability: every acknowledged send survives ``kill -9`` of the host, on both stores.

The host runs as a real subprocess (``backchannel serve``); a message counts as acknowledged when
its 2xx response arrived. The process is killed with SIGKILL right after the last one, restarted
on the same database, and every acknowledged ciphertext must be served again.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Dev, admit, create_talks, database_url, send

MESSAGES = 1000
SENDERS = 4
BACKCHANNEL = Path(sys.executable).with_name("backchannel")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(db_url: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start ``backchannel serve`` (no rate limit) and wait until it answers."""
    port = _free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(BACKCHANNEL),
                "serve",
                "--db",
                db_url,
                "--port",
                str(port),
                "--rate",
                "0",
                # Next to the log file, so the test never writes under the working directory.
                "--log-key",
                str(log.with_name("log.key")),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited: {log.read_text(errors='replace')}")
            try:
                if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not start")
            time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_acknowledged_sends_survive_kill_9(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """1,000 acknowledged sends, SIGKILL, restart: all 1,000 are still there, in order."""
    db_url = database_url(engine, tmp_path, request)
    log = tmp_path / "serve.log"
    alice, bob = Dev.new(), Dev.new()
    acknowledged: dict[str, bytes] = {}
    with serve(db_url, log) as (proc, url):
        with httpx.Client(base_url=url, timeout=30) as client:
            alice.join(client)
            bob.join(client)
            talks = create_talks(client, alice)
            admit(client, talks, alice, bob)

        def sender(worker: int) -> dict[str, bytes]:
            done = {}
            with httpx.Client(base_url=url, timeout=30) as own:
                for i in range(worker, MESSAGES, SENDERS):
                    msg_id, text = f"m{i:04d}", os.urandom(48)
                    if send(own, talks, alice, {bob: text}, msg_id).status_code == 201:
                        done[msg_id] = text
            return done

        with ThreadPoolExecutor(SENDERS) as pool:
            for done in pool.map(sender, range(SENDERS)):
                acknowledged.update(done)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert len(acknowledged) == MESSAGES

    with serve(db_url, log) as (_, url), httpx.Client(base_url=url, timeout=30) as client:
        bob.login(client)
        served: list[bytes] = []
        cursor = 0
        while True:
            batch = client.get(f"/v1/sync?since={cursor}&limit=500", headers=bob.auth).json()
            if not batch["deliveries"]:
                break
            served += [base64.b64decode(d["ciphertext"]) for d in batch["deliveries"]]
            cursor = batch["next"]
        talks_state = client.get(f"/v1/talks/{talks}", headers=bob.auth).json()
    assert sorted(served) == sorted(acknowledged.values())
    assert cursor == MESSAGES and talks_state["last_seq"] == MESSAGES
