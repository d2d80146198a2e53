"""``backchannel serve`` as its operator runs it: TLS with a self-signed certificate the client
trusts, and Ctrl-C with open long polls and WebSockets (docs/deploy.md)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.sync.client import connect

from backchannel.client import HostClient
from backchannel.crypto import Device, Identity
from tests.server.conftest import Dev, admit, create_talks, send

BACKCHANNEL = Path(sys.executable).with_name("backchannel")
#: What the issue allows a Ctrl-C to take, open long polls and sockets included.
STOP_WITHIN_S = 2.0


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backchannel test host")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "host.crt", directory / "host.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, *extra: str, scheme: str = "http") -> Iterator[tuple[Any, str]]:
    """``backchannel serve`` on a free port (SQLite in ``tmp_path``), once it answers."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(BACKCHANNEL), "serve", "--db", f"sqlite:///{tmp_path / 'host.db'}",
            "--port", str(port), "--rate", "0", "--log-key", str(tmp_path / "log.key"), *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SSL_CERT_FILE": str(tmp_path / "host.crt")},
    )  # fmt: skip
    url = f"{scheme}://127.0.0.1:{port}"
    verify: Any = True
    if scheme == "https":
        verify = ssl.create_default_context(cafile=str(tmp_path / "host.crt"))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(url + "/v1/health", timeout=2, verify=verify).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_tls_with_a_self_signed_certificate_the_client_trusts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve --tls-cert --tls-key`` answers HTTPS only; a device whose client trusts the
    certificate (``SSL_CERT_FILE``, as docs/deploy.md says) registers, logs in and creates
    talks; a client that does not trust it is refused by TLS itself."""
    cert, key = self_signed(tmp_path)
    with serving(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key), scheme="https") as (
        _,
        url,
    ):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/v1/health", verify=True)  # the public roots do not know it
        with pytest.raises(httpx.TransportError):
            httpx.get(url.replace("https", "http") + "/v1/health")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with HostClient(url, Device("dev-" + os.urandom(8).hex())) as client:
            client.register(Identity.generate())
            assert client.create_talks()


def test_ctrl_c_stops_at_once_with_open_long_polls_and_sockets(tmp_path: Path) -> None:
    """SIGINT with a long poll (30 s) and a WebSocket open: the process exits (0, or 130 as
    after any Ctrl-C) within 2 s, prints no traceback, the poll is answered and the socket
    closed 1001; every acknowledged send is served after a restart."""
    with serving(tmp_path) as (proc, url), httpx.Client(base_url=url, timeout=60) as client:
        alice, bob = Dev.new().join(client), Dev.new().join(client)
        talks = create_talks(client, alice)
        admit(client, talks, alice, bob)
        acked = [f"m{n}" for n in range(20)]
        for msg_id in acked:
            assert send(client, talks, alice, {bob: msg_id.encode()}, msg_id).status_code == 201
        got: dict[str, Any] = {}

        def poll() -> None:
            response = httpx.get(
                url + "/v1/sync",
                params={"since": len(acked), "timeout": 30},
                headers=bob.auth,
                timeout=60,
            )
            got["poll"] = response.status_code

        waiter = threading.Thread(target=poll)
        waiter.start()
        socket_url = url.replace("http", "ws") + f"/v1/sync/ws?since={len(acked)}"
        with connect(socket_url, additional_headers=bob.auth) as ws:
            time.sleep(1.0)  # both are waiting now
            started = time.monotonic()
            proc.send_signal(signal.SIGINT)
            try:
                _, errors = proc.communicate(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"serve still running {STOP_WITHIN_S} s after Ctrl-C")
            stopped = time.monotonic() - started
            try:
                ws.recv(timeout=5)
                closed = None
            except Exception as exc:  # ConnectionClosed carries the close frame
                closed = getattr(getattr(exc, "rcvd", None), "code", None)
        waiter.join(timeout=10)
    assert stopped < STOP_WITHIN_S
    assert proc.returncode in (0, 130), errors  # 130: uvicorn re-raises the SIGINT
    assert "Traceback" not in errors and "CancelledError" not in errors, errors
    assert got.get("poll") == 200
    assert closed in (1001, 1012)
    with serving(tmp_path) as (_, url), httpx.Client(base_url=url) as client:
        bob.login(client)
        served = client.get("/v1/sync", params={"limit": 100}, headers=bob.auth).json()
        assert [d["seq"] for d in served["deliveries"]] == list(range(1, len(acked) + 1))
        assert json.dumps(served)  # every acknowledged send is still there
