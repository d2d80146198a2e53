"""Sending, syncing (long-poll, WebSocket), acks, one-time keys, OpenAPI and rate limits."""

from __future__ import annotations

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route, WebSocketRoute
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from backchannel.server import HostConfig, Limits, create_app
from backchannel.server.auth import b64
from tests.server.conftest import Dev, LiveHost, admit, create_talks, running_host, send


def _ws_url(live_host: LiveHost, since: int = 0) -> str:
    return live_host.url.replace("http://", "ws://") + f"/v1/sync/ws?since={since}"


def test_send_reaches_each_recipient_only(client: httpx.Client) -> None:
    """Each recipient syncs exactly its own ciphertext; the sender's other devices get theirs."""
    alice, bob = Dev.new().join(client), Dev.new().join(client)
    alice2 = Dev.new(alice.identity).join(client)
    talks = create_talks(client, alice)
    admit(client, talks, alice, bob)
    admit(client, talks, alice, alice2)
    sent = send(client, talks, alice, {bob: b"for bob", alice2: b"for alice2"}, "m-1")
    assert sent.status_code == 201 and sent.json()["seq"] == 1 and sent.json()["created"]
    assert sent.json()["size"] == len(b"for bob") + len(b"for alice2")
    for dev, expected in ((bob, b"for bob"), (alice2, b"for alice2")):
        batch = client.get("/v1/sync", headers=dev.auth).json()
        assert [base64.b64decode(d["ciphertext"]) for d in batch["deliveries"]] == [expected]
        assert batch["deliveries"][0]["sender_device"] == alice.device_id
        assert batch["next"] == 1
    assert client.get("/v1/sync", headers=alice.auth).json() == {"deliveries": [], "next": 0}
    second = send(client, talks, bob, {alice: b"reply"}, "m-1")
    assert second.json()["seq"] == 2


def test_send_is_idempotent(client: httpx.Client) -> None:
    """Resending a client message id returns the first event (200) and stores nothing new."""
    alice, bob = Dev.new().join(client), Dev.new().join(client)
    talks = create_talks(client, alice)
    admit(client, talks, alice, bob)
    first = send(client, talks, alice, {bob: b"one"}, "same")
    again = send(client, talks, alice, {bob: b"two"}, "same")
    assert again.status_code == 200 and not again.json()["created"]
    assert again.json()["seq"] == first.json()["seq"]
    assert len(client.get("/v1/sync", headers=bob.auth).json()["deliveries"]) == 1


def test_sync_cursor_and_ack(client: httpx.Client) -> None:
    """Sync pages by cursor and limit; acks mark only the caller's own deliveries."""
    alice, bob = Dev.new().join(client), Dev.new().join(client)
    talks = create_talks(client, alice)
    admit(client, talks, alice, bob)
    for i in range(5):
        send(client, talks, alice, {bob: f"m{i}".encode()}, f"m{i}")
    page = client.get("/v1/sync?since=1&limit=2", headers=bob.auth).json()
    assert [d["position"] for d in page["deliveries"]] == [2, 3] and page["next"] == 3
    acked = client.post("/v1/sync/ack", json={"positions": [1, 2, 3]}, headers=bob.auth)
    assert acked.json() == {"acked": 3}
    foreign = client.post("/v1/sync/ack", json={"positions": [4]}, headers=alice.auth)
    assert foreign.json() == {"acked": 0}


def test_long_poll_wakes_on_send(client: httpx.Client, live_host: LiveHost) -> None:
    """A long-poll waiting for the recipient returns the ciphertext sent meanwhile."""
    alice, bob = Dev.new().join(client), Dev.new().join(client)
    talks = create_talks(client, alice)
    admit(client, talks, alice, bob)
    result: dict[str, Any] = {}

    def poll() -> None:
        with live_host.client() as other:
            result["batch"] = other.get("/v1/sync?since=0&timeout=25", headers=bob.auth).json()

    waiter = threading.Thread(target=poll)
    waiter.start()
    send(client, talks, alice, {bob: b"wake up"}, "m1")
    waiter.join(timeout=60)
    assert [d["ciphertext"] for d in result["batch"]["deliveries"]] == [b64(b"wake up")]


@pytest.mark.timeout(60)
def test_websocket_pushes_and_acks(client: httpx.Client, live_host: LiveHost) -> None:
    """The WebSocket pushes the backlog then new ciphertexts, and records acks."""
    alice, bob = Dev.new().join(client), Dev.new().join(client)
    talks = create_talks(client, alice)
    admit(client, talks, alice, bob)
    send(client, talks, alice, {bob: b"before"}, "m1")
    with connect(_ws_url(live_host), additional_headers=bob.auth, open_timeout=20) as ws:
        backlog = json.loads(ws.recv(timeout=20))
        assert backlog["type"] == "deliveries" and backlog["next"] == 1
        send(client, talks, alice, {bob: b"after"}, "m2")
        pushed = json.loads(ws.recv(timeout=20))
        assert [d["ciphertext"] for d in pushed["deliveries"]] == [b64(b"after")]
        ws.send(json.dumps({"type": "ack", "positions": [1, 2]}))
        # The ack is processed before the socket handles the next message: a bad one closes it.
        ws.send("not json")
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=20)
    again = client.post("/v1/sync/ack", json={"positions": [1, 2]}, headers=bob.auth)
    assert again.json() == {"acked": 0}


@pytest.mark.timeout(60)
def test_websocket_refuses_bad_token(live_host: LiveHost) -> None:
    """A WebSocket without a valid token gets a problem message and close code 4401."""
    headers = {"Authorization": "Bearer nope"}
    with connect(_ws_url(live_host), additional_headers=headers, open_timeout=20) as ws:
        error = json.loads(ws.recv(timeout=20))
        assert error["type"] == "error" and error["problem"]["code"] == "auth.invalid"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_one_time_keys_claimed_once(client: httpx.Client) -> None:
    """Keys are claimed once each; reclaiming or re-uploading a key id is refused."""
    alice, bob = Dev.new().join(client), Dev.new().join(client)
    admit(client, create_talks(client, alice), alice, bob)  # only peers may claim
    keys = [{"key_id": f"k{i}", "key": b64(bytes([i]) * 32)} for i in range(2)]
    uploaded = client.post("/v1/keys/one-time", json={"keys": keys}, headers=alice.auth)
    assert uploaded.status_code == 201 and uploaded.json() == {"unclaimed": 2}
    claim = {"device_id": alice.device_id}
    first = client.post("/v1/keys/claim", json=claim, headers=bob.auth).json()
    second = client.post("/v1/keys/claim", json=claim, headers=bob.auth).json()
    assert {first["key_id"], second["key_id"]} == {"k0", "k1"}
    none_left = client.post("/v1/keys/claim", json=claim, headers=bob.auth)
    assert none_left.status_code == 404 and none_left.json()["code"] == "keys.exhausted"
    reuse = client.post("/v1/keys/claim", json={**claim, "key_id": "k0"}, headers=bob.auth)
    assert reuse.status_code == 409 and reuse.json()["code"] == "keys.claimed"
    reupload = client.post("/v1/keys/one-time", json={"keys": keys[:1]}, headers=alice.auth)
    assert reupload.status_code == 409 and reupload.json()["code"] == "store.conflict"


def test_openapi_lists_every_route(client: httpx.Client, tmp_path: Path) -> None:
    """/openapi.json describes every route the app serves with each of its methods (the
    WebSocket as the GET that upgrades, the document and the health check included), each
    with its parameters, success schema and problem codes; a 405 names the methods in Allow."""
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    app = create_app(HostConfig(db_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    for route in app.routes:
        assert isinstance(route, Route | WebSocketRoute)
        methods = {m.lower() for m in getattr(route, "methods", None) or {"get"}} - {"head"}
        assert methods <= set(document["paths"][route.path]), route.path
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema["properties"]["code"]["enum"], (method, path, status)
    refused = client.request("PUT", "/v1/keys/one-time")
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    """Past its burst a device gets 429 rate.limited with Retry-After, until time refills it."""
    limits = Limits(rate_per_s=1, rate_burst=10)
    with running_host(f"sqlite:///{tmp_path / 'rl.db'}", limits) as host, host.client() as c:
        dev = Dev.new().join(c)  # three address-bucket calls
        statuses = [c.get("/v1/sync", headers=dev.auth).status_code for _ in range(11)]
        assert statuses[:10] == [200] * 10
        limited = c.get("/v1/sync", headers=dev.auth)
        assert limited.status_code == 429 and limited.json()["code"] == "rate.limited"
        assert int(limited.headers["Retry-After"]) >= 1
        host.clock.advance(5)
        assert c.get("/v1/sync", headers=dev.auth).status_code == 200


@pytest.mark.timeout(60)
def test_websocket_closes_when_the_device_is_revoked(
    client: httpx.Client, live_host: LiveHost
) -> None:
    """A device revoked while its WebSocket is open is told so (4403) and disconnected."""
    dev = Dev.new().join(client)
    with connect(_ws_url(live_host), additional_headers=dev.auth, open_timeout=20) as ws:
        client.post(f"/v1/devices/{dev.device_id}/revoke", json={}, headers=dev.auth)
        error = json.loads(ws.recv(timeout=20))
        assert error["problem"]["code"] == "access.forbidden"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.timeout(60)
def test_websocket_binary_frame_is_bad_input(client: httpx.Client, live_host: LiveHost) -> None:
    """A binary frame on the sync socket gets an input.invalid problem and close code 4400."""
    dev = Dev.new().join(client)
    with connect(_ws_url(live_host), additional_headers=dev.auth, open_timeout=20) as ws:
        ws.send(b"\x00\x01")
        error = json.loads(ws.recv(timeout=20))
        assert error["problem"]["code"] == "input.invalid"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


def test_concurrent_claims_over_http_hand_out_each_key_once(
    client: httpx.Client, live_host: LiveHost
) -> None:
    """Four clients racing to claim 30 keys over HTTP get each key exactly once between them."""
    owner = Dev.new().join(client)
    claimers = [Dev.new().join(client) for _ in range(4)]
    talks = create_talks(client, owner)
    for claimer in claimers:
        admit(client, talks, owner, claimer)
    keys = [{"key_id": f"k{i:02d}", "key": b64(bytes([i]) * 32)} for i in range(30)]
    client.post("/v1/keys/one-time", json={"keys": keys}, headers=owner.auth)

    def claim_all(claimer: Dev) -> list[str]:
        got = []
        with live_host.client() as own:
            while True:
                response = own.post(
                    "/v1/keys/claim", json={"device_id": owner.device_id}, headers=claimer.auth
                )
                if response.status_code == 404:
                    return got
                assert response.status_code == 200, response.text
                got.append(response.json()["key_id"])

    with ThreadPoolExecutor(4) as pool:
        claimed = [k for batch in pool.map(claim_all, claimers) for k in batch]
    assert sorted(claimed) == [k["key_id"] for k in keys]
