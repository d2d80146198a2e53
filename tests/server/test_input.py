"""Bad input, table-driven: every malformed request gets a 4xx problem with a code, and the
store is left exactly as it was. Never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backchannel.server.auth import b64
from tests.server.conftest import Dev, LiveHost, create_talks


@dataclass
class Setup:
    """A logged-in device and a talks it created."""

    dev: Dev
    talks: str


@pytest.fixture(scope="module")
def setup(live_host: LiveHost) -> Iterator[Setup]:
    """One device and one talks for the whole module."""
    with live_host.client() as client:
        dev = Dev.new().join(client)
        yield Setup(dev, create_talks(client, dev))


def _registration(**changes: Any) -> bytes:
    body = Dev.new().registration()
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def _send(**changes: Any) -> Any:
    return lambda s: json.dumps(
        {"client_msg_id": "m1", "ciphertexts": {s.dev.device_id: b64(b"x")}, **changes}
    ).encode()


KEY = b64(b"k" * 32)
#: name: (method, path, body (bytes, or a function of the setup), status, code)
CASES: dict[str, tuple[str, str, Any, int, str]] = {
    "register: not JSON": ("POST", "/v1/devices", b"{bad", 400, "input.invalid"),
    "register: not UTF-8": ("POST", "/v1/devices", b'{"a": "\xff"}', 400, "input.invalid"),
    "register: NaN": ("POST", "/v1/devices", b'{"x": NaN}', 400, "input.invalid"),
    "register: array": ("POST", "/v1/devices", b"[]", 400, "input.invalid"),
    "register: empty": ("POST", "/v1/devices", b"", 400, "input.invalid"),
    "register: deep nesting": ("POST", "/v1/devices", b"[" * 100_000, 400, "input.invalid"),
    "register: unknown field": (
        "POST", "/v1/devices", _registration(name="Muscat delegation"), 400, "input.invalid"
    ),
    "register: missing field": ("POST", "/v1/devices", _registration(ed25519=...), 400,
                                "input.invalid"),
    "register: key wrong type": ("POST", "/v1/devices", _registration(identity=7), 400,
                                 "input.invalid"),
    "register: bad base64": ("POST", "/v1/devices", _registration(curve25519="!!notb64"), 400,
                             "input.invalid"),
    "register: short key": ("POST", "/v1/devices", _registration(ed25519=b64(b"k" * 31)), 400,
                            "input.invalid"),
    "register: long id": ("POST", "/v1/devices", _registration(device_id="d" * 65), 400,
                          "input.invalid"),
    "register: id charset": ("POST", "/v1/devices", _registration(device_id="a/../b"), 400,
                             "input.invalid"),
    "register: oversize body": ("POST", "/v1/devices", b" " * (4 * 1024 * 1024 + 1), 413,
                                "input.too_large"),
    "challenge: null id": ("POST", "/v1/auth/challenge", b'{"device_id": null}', 400,
                           "input.invalid"),
    "challenge: empty id": ("POST", "/v1/auth/challenge", b'{"device_id": ""}', 400,
                            "input.invalid"),
    "token: short challenge": (
        "POST", "/v1/auth/token",
        lambda s: json.dumps({"device_id": s.dev.device_id, "challenge": b64(b"c"),
                              "signature": b64(b"s" * 64)}).encode(),
        400, "input.invalid",
    ),
    "keys: empty list": ("POST", "/v1/keys/one-time", b'{"keys": []}', 400, "input.invalid"),
    "keys: too many": (
        "POST", "/v1/keys/one-time",
        json.dumps({"keys": [{"key_id": f"k{i}", "key": KEY} for i in range(101)]}).encode(),
        400, "input.invalid",
    ),
    "keys: bad key id": (
        "POST", "/v1/keys/one-time",
        json.dumps({"keys": [{"key_id": "k 1", "key": KEY}]}).encode(), 400, "input.invalid",
    ),
    "keys: duplicate id in batch": (
        "POST", "/v1/keys/one-time",
        json.dumps({"keys": [{"key_id": "k1", "key": KEY}] * 2}).encode(), 409, "store.conflict",
    ),
    "claim: id not a string": ("POST", "/v1/keys/claim", b'{"device_id": 5}', 400,
                               "input.invalid"),
    "talks: a plaintext name": ("POST", "/v1/talks", b'{"name": "Muscat"}', 400,
                                "input.invalid"),
    "invite: ttl as string": (
        "POST", "/v1/talks/{talks}/invites", b'{"ttl_seconds": "10"}', 400, "input.invalid"
    ),
    "invite: ttl boolean": (
        "POST", "/v1/talks/{talks}/invites", b'{"ttl_seconds": true}', 400, "input.invalid"
    ),
    "invite: ttl zero": ("POST", "/v1/talks/{talks}/invites", b'{"ttl_seconds": 0}', 400,
                         "input.invalid"),
    "accept: missing code": ("POST", "/v1/invites/accept", b"{}", 400, "input.invalid"),
    "accept: unknown code": ("POST", "/v1/invites/accept", b'{"code": "nope"}', 404,
                             "invite.invalid"),
    "send: no recipients": ("POST", "/v1/talks/{talks}/messages", _send(ciphertexts={}), 400,
                            "input.invalid"),
    "send: plaintext field": ("POST", "/v1/talks/{talks}/messages", _send(text="hello"), 400,
                              "input.invalid"),
    "send: ciphertext not base64": (
        "POST", "/v1/talks/{talks}/messages",
        lambda s: _send(ciphertexts={s.dev.device_id: "%%%"})(s), 400, "input.invalid",
    ),
    "send: ciphertext too large": (
        "POST", "/v1/talks/{talks}/messages",
        lambda s: _send(ciphertexts={s.dev.device_id: b64(b"x" * (64 * 1024 + 1))})(s),
        400, "input.invalid",
    ),
    "send: too many recipients": (
        "POST", "/v1/talks/{talks}/messages",
        _send(ciphertexts={f"d{i}": b64(b"x") for i in range(201)}), 400, "input.invalid",
    ),
    "send: bad recipient id": (
        "POST", "/v1/talks/{talks}/messages", _send(ciphertexts={"a b": b64(b"x")}), 400,
        "input.invalid",
    ),
    "send: unknown recipient": (
        "POST", "/v1/talks/{talks}/messages", _send(ciphertexts={"ghost": b64(b"x")}), 403,
        "access.forbidden",
    ),
    "send: missing message id": (
        "POST", "/v1/talks/{talks}/messages", _send(client_msg_id=None), 400, "input.invalid"
    ),
    "send: unknown talks": ("POST", "/v1/talks/nope/messages", _send(), 404,
                            "resource.not_found"),
    "send: bad talks id": ("POST", "/v1/talks/a%20b/messages", _send(), 400, "input.invalid"),
    "sync: negative cursor": ("GET", "/v1/sync?since=-1", None, 400, "input.invalid"),
    "sync: cursor not a number": ("GET", "/v1/sync?since=abc", None, 400, "input.invalid"),
    "sync: timeout too long": ("GET", "/v1/sync?timeout=999", None, 400, "input.invalid"),
    "sync: zero limit": ("GET", "/v1/sync?limit=0", None, 400, "input.invalid"),
    "ack: empty": ("POST", "/v1/sync/ack", b'{"positions": []}', 400, "input.invalid"),
    "ack: strings": ("POST", "/v1/sync/ack", b'{"positions": ["1"]}', 400, "input.invalid"),
    "ack: zero": ("POST", "/v1/sync/ack", b'{"positions": [0]}', 400, "input.invalid"),
    "unknown route": ("GET", "/v1/nothing-here", None, 404, "resource.not_found"),
    "wrong method": ("DELETE", "/v1/talks", None, 405, "request.method_not_allowed"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_request(setup: Setup, live_host: LiveHost, case: str) -> None:
    """The malformed request gets the table's 4xx status and code; the store is unchanged."""
    method, path, body, status, code = CASES[case]
    content = body(setup) if callable(body) else body
    with live_host.client() as client, live_host.store() as store:
        before = store.counts()
        response = client.request(
            method,
            path.format(talks=setup.talks),
            content=content,
            headers={**setup.dev.auth, "Content-Type": "application/json"},
        )
        after = store.counts()
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status and problem["type"].endswith(code)
    assert after == before
