"""The server's public surface, its logs, and the ``serve`` command's failure path."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from typer.testing import CliRunner

import backchannel.server as server
from backchannel.cli import app
from backchannel.server.auth import b64
from tests.server.conftest import Dev, LiveHost, admit, create_talks, send


def test_server_exports() -> None:
    """The server package exports the app factory, its config, the limits and canonical JSON."""
    assert sorted(server.__all__) == ["HostConfig", "Limits", "canonical_json", "create_app"]
    assert all(hasattr(server, name) for name in server.__all__)


def test_logs_never_carry_bodies(
    client: httpx.Client, live_host: LiveHost, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing the host logs contains a ciphertext or a request body, even for bad requests."""
    marker = b"CIPHERTEXT-MARKER-7f3a"
    caplog.set_level(logging.DEBUG)
    alice, bob = Dev.new().join(client), Dev.new().join(client)
    talks = create_talks(client, alice)
    admit(client, talks, alice, bob)
    assert send(client, talks, alice, {bob: marker}, "m1").status_code == 201
    bad = {"client_msg_id": "m2", "ciphertexts": {bob.device_id: b64(marker)}, "x": 1}
    client.post(f"/v1/talks/{talks}/messages", json=bad, headers=alice.auth)
    client.post("/v1/devices", content=b"{" + marker)
    assert b64(marker) not in caplog.text and marker.decode() not in caplog.text


def test_serve_rejects_unknown_database_url() -> None:
    """``backchannel serve --db`` with an unsupported scheme fails with the error's code."""
    result = CliRunner().invoke(app, ["serve", "--db", "mysql://x/y", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "input.invalid"
