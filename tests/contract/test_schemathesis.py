"""The OpenAPI document is the contract: Schemathesis against a real ``backchannel serve``.

A fresh host (its own SQLite file, no rate limit) runs as a subprocess; Schemathesis loads its
``/openapi.json`` and runs every phase (coverage, fuzzing, stateful) with **all** checks, once
without credentials and once as a real device (registered with its certificate, logged in by
signing a challenge) whose token it sends on every request. The stateful phase follows the
document's links (a created talks to its invites, messages and log), so it reaches past 401 and
404. Both runs must end with zero failures and zero errors; the summary is printed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backchannel.client import HostClient
from backchannel.crypto import Device, Identity

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
#: Examples per operation and phase; `SCHEMATHESIS_EXAMPLES` raises it for a longer hunt.
EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "10")
#: A fixed seed keeps CI reproducible; `SCHEMATHESIS_SEED=random` explores afresh.
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261202")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``backchannel serve`` on a fresh database, for the module."""
    scratch = tmp_path_factory.mktemp("contract")
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "backchannel"), "serve", "--db", f"sqlite:///{scratch / 'host.db'}",
            "--port", str(port), "--rate", "0", "--log-key", str(scratch / "log.key"),
            # Long polls of at most 1 s (the document says so): a run is not 30 s per poll.
            "--max-poll", "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        _, errors = proc.communicate(timeout=30)
        assert "Traceback" not in errors, errors  # no 5xx, no crash, whatever was sent


def schemathesis(url: str, tmp_path: Path, *headers: str) -> str:
    """Run Schemathesis (all phases, all checks) and return its output; fail on any failure."""
    executable = shutil.which("schemathesis", path=str(BIN)) or str(BIN / "schemathesis")
    args = [
        executable, "--config-file", str(HERE / "schemathesis.toml"), "run",
        f"{url}/openapi.json", "--checks", "all", "--max-examples", EXAMPLES,
        "--workers", "1", "--no-color", "--generation-database", "none",
        "--request-timeout", "30", "--max-response-time", "20",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]  # fmt: skip
    if SEED != "random":
        args += ["--seed", SEED]
    for header in headers:
        args += ["--header", header]
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    output = done.stdout + done.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    summary = output[output.find("= SUMMARY =") - 40 :] if "= SUMMARY =" in output else output
    print(summary)
    assert done.returncode == 0, output[-20_000:]
    assert " failures" not in summary and "Errors:" not in summary, summary
    return summary


def test_unauthenticated_the_host_keeps_its_contract(host: str, tmp_path: Path) -> None:
    """Without credentials every operation answers only what the document says (401 where a
    token is needed); zero failures, zero errors."""
    schemathesis(host, tmp_path)


def test_as_a_real_device_the_host_keeps_its_contract(host: str, tmp_path: Path) -> None:
    """With a real device's token every operation, and the stateful phase through its links
    (talks → invites, messages, log), answers only what the document says."""
    with HostClient(host, Device("dev-" + os.urandom(8).hex())) as device:
        device.register(Identity.generate())
        device.top_up_one_time_keys(5)
        device.login()
        token = device._token  # the bearer token the device would send
    assert token
    schemathesis(host, tmp_path, f"Authorization: Bearer {token}")
    # With the token, only two operations may answer nothing but 401/403, by design: a token is
    # had only for a challenge signed with the device's key (401 auth.invalid otherwise), and
    # another device's id is revoked only with its identity's signature (403).
    expected = {"POST /v1/auth/token", "POST /v1/devices/{device_id}/revoke"}
    assert _auth_only(tmp_path) <= expected


def _auth_only(tmp_path: Path) -> set[str]:
    """The operations Schemathesis warned answered only 401/403."""
    lines = (tmp_path / "schemathesis.txt").read_text().splitlines()
    found: set[str] = set()
    for at, line in enumerate(lines):
        if line.startswith(("401 ", "403 ")) and "operation" in line:
            for listed in lines[at + 1 :]:
                if not listed.startswith("  - "):
                    break
                found.add(listed[4:].strip())
    return found
