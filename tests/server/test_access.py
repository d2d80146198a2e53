"""Authorisation, table-driven: every route against every role, on both stores.

Roles: the talks' creator device; the creator's second device (admitted); a device of another
identity (admitted); an outsider (registered, valid token, not admitted); a revoked device (was
admitted); no credentials; an expired token; an invalid token. Each row says what each role gets.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from backchannel.server.auth import b64
from tests.server.conftest import Dev, LiveHost, admit, create_talks, send

ADMITTED = ("creator", "sibling", "other")
#: The creator's complete one-chunk blob in the world's talks.
BLOB = "blob-world"
ACTIVE = (*ADMITTED, "outsider")
ROLES = (*ACTIVE, "revoked", "none", "expired", "invalid")


@dataclass
class World:
    """The devices of each role, a talks, and the headers each role sends."""

    devices: dict[str, Dev]
    talks: str
    headers: dict[str, dict[str, str]]

    @property
    def creator(self) -> Dev:
        return self.devices["creator"]


@pytest.fixture(scope="module")
def world(live_host: LiveHost) -> Iterator[World]:
    """One talks with an admitted creator, sibling and other; an outsider; a revoked device."""
    with live_host.client() as client:
        expired = Dev.new().join(client)
        live_host.clock.advance(16 * 60)  # past the token lifetime: only ``expired`` is stale
        creator = Dev.new().join(client)
        devices = {
            "creator": creator,
            "sibling": Dev.new(creator.identity).join(client),
            "other": Dev.new().join(client),
            "outsider": Dev.new().join(client),
            "revoked": Dev.new().join(client),
        }
        talks = create_talks(client, creator)
        for role in ("sibling", "other", "revoked"):
            admit(client, talks, creator, devices[role])
        send(client, talks, creator, {devices["revoked"]: b"for:revoked:0"}, "to-revoked")
        revoked = devices["revoked"]
        gone = client.post(f"/v1/devices/{revoked.device_id}/revoke", json={}, headers=revoked.auth)
        assert gone.status_code == 200
        for batch in range(2):
            keys = [
                {"key_id": f"k{batch}-{i}", "key": b64(secrets.token_bytes(32))} for i in range(100)
            ]
            client.post("/v1/keys/one-time", json={"keys": keys}, headers=creator.auth)
        blob = f"/v1/talks/{talks}/blobs/{BLOB}"
        declared = client.put(blob, json={"chunks": 1, "size": 4}, headers=creator.auth)
        assert declared.status_code == 201, declared.text
        stored = client.put(blob + "/chunks/0", json={"data": b64(b"ciph")}, headers=creator.auth)
        assert stored.json()["complete"], stored.text
        headers = {role: dev.auth for role, dev in devices.items()}
        headers["none"] = {}
        headers["expired"] = expired.auth
        headers["invalid"] = {"Authorization": "Bearer " + secrets.token_urlsafe(32)}
        yield World(devices, talks, headers)


Request = tuple[str, str, dict[str, Any] | None]
Build = Callable[[World, httpx.Client], Request]


def _fresh_talks_invite(world: World, client: httpx.Client) -> Request:
    # Convened by "other", not the creator: accepting must not make the outsider the creator's
    # peer (the creator's keys and record are for its peers only).
    convener = world.devices["other"]
    talks = create_talks(client, convener)
    invite = client.post(f"/v1/talks/{talks}/invites", json={}, headers=convener.auth)
    return "POST", "/v1/invites/accept", {"code": invite.json()["code"]}


def _send_to_admitted(world: World, client: httpx.Client) -> Request:
    ciphertexts = {
        world.devices[r].device_id: b64(f"for:{r}:{secrets.token_hex(4)}".encode())
        for r in ADMITTED
    }
    body = {"client_msg_id": secrets.token_hex(8), "ciphertexts": ciphertexts}
    return "POST", f"/v1/talks/{world.talks}/messages", body


def _revoke_someone_else(world: World, client: httpx.Client) -> Request:
    victim = Dev.new()
    client.post("/v1/devices", json=victim.registration())
    return "POST", f"/v1/devices/{victim.device_id}/revoke", {}


def _register(world: World, client: httpx.Client) -> Request:
    return "POST", "/v1/devices", Dev.new().registration()


def _upload(world: World, client: httpx.Client) -> Request:
    key = {"key_id": secrets.token_hex(6), "key": b64(secrets.token_bytes(32))}
    return "POST", "/v1/keys/one-time", {"keys": [key]}


def _inclusion_of_a_fresh_leaf(world: World, client: httpx.Client) -> Request:
    body = {
        "client_msg_id": secrets.token_hex(8),
        "ciphertexts": {world.devices["other"].device_id: b64(b"for:other:leaf")},
        "entry": b64(secrets.token_bytes(32)),
    }
    sent = client.post(f"/v1/talks/{world.talks}/messages", json=body, headers=world.creator.auth)
    index = sent.json()["leaf_index"]
    return "GET", f"/v1/talks/{world.talks}/log/inclusion?index={index}", None


_OUTSIDER = {"outsider": (403, "access.forbidden")}
#: Only the uploading device (the creator) writes its blob.
_UPLOADER_ONLY = {role: (403, "access.forbidden") for role in ("sibling", "other", "outsider")}

#: Per route: how to build the request, the status active roles get, and per-role exceptions.
ROWS: dict[str, tuple[Build, int, dict[str, tuple[int, str]]]] = {
    "register": (_register, 201, {}),
    "get_device": (
        lambda w, c: ("GET", f"/v1/devices/{w.creator.device_id}", None),
        200,
        {"outsider": (404, "resource.not_found")},  # an outsider is told it does not exist
    ),
    "revoke_other": (_revoke_someone_else, 403, {}),
    "create_talks": (lambda w, c: ("POST", "/v1/talks", {}), 201, {}),
    "get_talks": (
        lambda w, c: ("GET", f"/v1/talks/{w.talks}", None),
        200,
        {"outsider": (403, "access.forbidden")},
    ),
    "get_unknown_talks": (
        lambda w, c: ("GET", "/v1/talks/no-such-talks", None),
        404,
        {},
    ),
    "create_invite": (
        lambda w, c: ("POST", f"/v1/talks/{w.talks}/invites", {}),
        201,
        {"outsider": (403, "access.forbidden")},
    ),
    "accept_invite": (_fresh_talks_invite, 200, {}),
    "send": (_send_to_admitted, 201, {"outsider": (403, "access.forbidden")}),
    "sync": (lambda w, c: ("GET", "/v1/sync?since=0", None), 200, {}),
    "ack": (lambda w, c: ("POST", "/v1/sync/ack", {"positions": [1]}), 200, {}),
    "upload_keys": (_upload, 201, {}),
    "log_key": (lambda w, c: ("GET", "/v1/log/key", None), 200, {}),
    "log_checkpoint": (
        lambda w, c: ("GET", f"/v1/talks/{w.talks}/log/checkpoint", None),
        200,
        _OUTSIDER,
    ),
    "log_inclusion": (_inclusion_of_a_fresh_leaf, 200, _OUTSIDER),
    "log_consistency": (
        lambda w, c: ("GET", f"/v1/talks/{w.talks}/log/consistency?from=0", None),
        200,
        _OUTSIDER,
    ),
    "log_entries": (
        lambda w, c: ("GET", f"/v1/talks/{w.talks}/log/entries?start=0", None),
        200,
        _OUTSIDER,
    ),
    "log_of_unknown_talks": (
        lambda w, c: ("GET", "/v1/talks/no-such-talks/log/checkpoint", None),
        404,
        {},
    ),
    "declare_blob": (
        lambda w, c: (
            "PUT",
            f"/v1/talks/{w.talks}/blobs/b-{secrets.token_hex(6)}",
            {"chunks": 1, "size": 4},
        ),
        201,
        _OUTSIDER,
    ),
    "get_blob": (lambda w, c: ("GET", f"/v1/talks/{w.talks}/blobs/{BLOB}", None), 200, _OUTSIDER),
    "get_chunk": (
        lambda w, c: ("GET", f"/v1/talks/{w.talks}/blobs/{BLOB}/chunks/0", None),
        200,
        _OUTSIDER,
    ),
    "put_chunk": (
        lambda w, c: (
            "PUT",
            f"/v1/talks/{w.talks}/blobs/{BLOB}/chunks/0",
            {"data": b64(b"ciph")},
        ),
        200,
        _UPLOADER_ONLY,
    ),
    "claim_key": (
        lambda w, c: ("POST", "/v1/keys/claim", {"device_id": w.creator.device_id}),
        200,
        {"outsider": (404, "resource.not_found")},
    ),
}

#: What the roles without a working token get on routes that need one.
DENIED = {
    "revoked": (403, "access.forbidden"),
    "none": (401, "auth.required"),
    "expired": (401, "auth.expired"),
    "invalid": (401, "auth.invalid"),
}
#: Routes that need no token (the header is ignored).
OPEN_ROUTES = {"register", "log_key"}


def _expected(row: str, role: str) -> tuple[int, str | None]:
    _, success, overrides = ROWS[row]
    if row in OPEN_ROUTES:
        return success, None
    if role in DENIED:
        if row == "revoke_other" and role == "none":
            return 401, "auth.required"
        return DENIED[role]
    if role in overrides:
        return overrides[role]
    if row == "revoke_other":
        return 403, "access.forbidden"
    if row in ("get_unknown_talks", "log_of_unknown_talks"):
        return 404, "resource.not_found"
    return success, None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", sorted(ROWS))
def test_route_by_role(world: World, live_host: LiveHost, row: str, role: str) -> None:
    """Each role gets exactly the status (and error code) the table says for each route."""
    build = ROWS[row][0]
    status, code = _expected(row, role)
    with live_host.client() as client:
        method, url, body = build(world, client)
        response = client.request(method, url, json=body, headers=world.headers[role])
    assert response.status_code == status, response.text
    if code is not None:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code


def test_ciphertexts_are_served_only_to_their_recipient(world: World, live_host: LiveHost) -> None:
    """Every ciphertext a device syncs was addressed to it; the outsider receives nothing."""
    with live_host.client() as client:
        method, url, body = _send_to_admitted(world, client)
        assert client.request(method, url, json=body, headers=world.creator.auth).is_success
        for role in ACTIVE:
            found = client.get("/v1/sync?limit=500", headers=world.headers[role]).json()
            texts = [base64.b64decode(d["ciphertext"]).decode() for d in found["deliveries"]]
            assert all(t.startswith(f"for:{role}:") for t in texts), role
            assert bool(texts) == (role in ADMITTED), role
        revoked = client.get("/v1/sync", headers=world.headers["revoked"])
        assert revoked.status_code == 403


def test_send_to_an_outsider_is_refused_whole(world: World, live_host: LiveHost) -> None:
    """A send naming one unadmitted recipient is 403 and stores nothing for anyone."""
    with live_host.client() as client, live_host.store() as store:
        before = store.counts()
        outsider, other = world.devices["outsider"], world.devices["other"]
        refused = send(client, world.talks, world.creator, {other: b"x", outsider: b"y"}, "leak")
        assert refused.status_code == 403 and refused.json()["code"] == "access.forbidden"
        revoked = world.devices["revoked"]
        refused = send(client, world.talks, world.creator, {revoked: b"x"}, "to-revoked-2")
        assert refused.status_code == 403
        after = store.counts()
    assert after == before
