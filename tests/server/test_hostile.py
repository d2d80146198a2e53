"""Hostile devices and what a stolen database shows: each attack of issue 15 against the host.

An outsider is a registered device that shares no talks with its target and holds no invite. It
cannot exhaust anyone's one-time keys, learn whether a device exists, read a device's record or
register a look-alike id; invalid tokens are rate limited like anything else; and what the host
keeps of deliveries shrinks to the day they were acknowledged, until they are purged.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backchannel.server import Limits
from backchannel.server.auth import b64
from tests.server.conftest import Dev, LiveHost, admit, create_talks, running_host, send


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHost]:
    """One SQLite host for the module, no rate limit."""
    path = tmp_path_factory.mktemp("hostile") / "host.db"
    with running_host(f"sqlite:///{path}") as live:
        yield live


def _keys(client: httpx.Client, owner: Dev, count: int) -> None:
    keys = [{"key_id": f"k{i}", "key": b64(secrets.token_bytes(32))} for i in range(count)]
    uploaded = client.post("/v1/keys/one-time", json={"keys": keys}, headers=owner.auth)
    assert uploaded.status_code == 201, uploaded.text


def test_an_outsider_can_neither_claim_nor_exhaust_one_time_keys(host: LiveHost) -> None:
    """A device that shares no talks with the owner gets 404 for every claim (as for an unknown
    device) and the owner's keys stay unclaimed; a device in a shared talks claims them."""
    with host.client() as client:
        owner, outsider, peer = (Dev.new().join(client) for _ in range(3))
        _keys(client, owner, 3)
        for _ in range(5):
            claim = client.post(
                "/v1/keys/claim", json={"device_id": owner.device_id}, headers=outsider.auth
            )
            assert claim.status_code == 404, claim.text
            assert claim.json()["code"] == "resource.not_found"
        talks = create_talks(client, owner)
        admit(client, talks, owner, peer)
        claim = client.post(
            "/v1/keys/claim", json={"device_id": owner.device_id}, headers=peer.auth
        )
        assert claim.status_code == 200 and claim.json()["fallback"] is False
        count = client.get("/v1/keys/one-time", headers=owner.auth).json()
        assert count == {"unclaimed": 2, "fallback": False}


def test_a_fallback_key_lets_sessions_start_when_one_time_keys_run_out(host: LiveHost) -> None:
    """With its one-time keys claimed, a device's fallback key is handed out (and kept for the
    next claimer), to a peer in a shared talks or to a holder of a live invite; an invite
    spent or for other talks opens nothing."""
    with host.client() as client:
        owner, peer, joiner, stranger = (Dev.new().join(client) for _ in range(4))
        _keys(client, owner, 1)
        fallback = {"key_id": "f1", "key": b64(secrets.token_bytes(32))}
        put = client.post("/v1/keys/fallback", json=fallback, headers=owner.auth)
        assert put.status_code == 201, put.text
        talks = create_talks(client, owner)
        admit(client, talks, owner, peer)
        claim = {"device_id": owner.device_id}
        first = client.post("/v1/keys/claim", json=claim, headers=peer.auth).json()
        assert first["key_id"] == "k0" and first["fallback"] is False
        for _ in range(2):
            again = client.post("/v1/keys/claim", json=claim, headers=peer.auth).json()
            assert again == {**fallback, "device_id": owner.device_id, "fallback": True}
        code = client.post(f"/v1/talks/{talks}/invites", json={}, headers=owner.auth).json()["code"]
        held = client.post("/v1/keys/claim", json={**claim, "invite": code}, headers=joiner.auth)
        assert held.status_code == 200 and held.json()["fallback"] is True
        other = create_talks(client, stranger)
        foreign = client.post(f"/v1/talks/{other}/invites", json={}, headers=stranger.auth)
        wrong = {**claim, "invite": foreign.json()["code"]}
        assert client.post("/v1/keys/claim", json=wrong, headers=joiner.auth).status_code == 404
        assert client.get("/v1/keys/one-time", headers=owner.auth).json() == {
            "unclaimed": 0,
            "fallback": True,
        }


def test_device_records_are_visible_only_to_peers_and_invite_holders(host: LiveHost) -> None:
    """An outsider reading a device's record gets the same 404 as for an id nobody registered;
    the device itself, a peer in a shared talks and the holder of a live invite read it."""
    with host.client() as client:
        owner, outsider, peer, joiner = (Dev.new().join(client) for _ in range(4))
        path = f"/v1/devices/{owner.device_id}"
        unknown = client.get("/v1/devices/dev-nobody", headers=outsider.auth)
        hidden = client.get(path, headers=outsider.auth)
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.json() == unknown.json()
        assert client.get(path, headers=owner.auth).status_code == 200
        talks = create_talks(client, owner)
        admit(client, talks, owner, peer)
        assert client.get(path, headers=peer.auth).status_code == 200
        code = client.post(f"/v1/talks/{talks}/invites", json={}, headers=owner.auth).json()["code"]
        shown = client.get(path, params={"invite": code}, headers=joiner.auth)
        assert shown.status_code == 200 and shown.json()["device_id"] == owner.device_id


def test_the_unauthenticated_routes_say_nothing_about_which_devices_exist(host: LiveHost) -> None:
    """A challenge for an unknown id looks like one for a known id, and answering it fails as a
    wrong signature does; a revocation with a bad signature fails alike for both."""
    with host.client() as client:
        known = Dev.new().join(client)
        stranger = Dev.new()
        answers = [
            client.post("/v1/auth/challenge", json={"device_id": d.device_id})
            for d in (known, stranger)
        ]
        assert [a.status_code for a in answers] == [201, 201]
        assert {len(a.json()["challenge"]) for a in answers} == {44}
        forged = stranger.sign_challenge(answers[1].json()["challenge"])
        token = client.post("/v1/auth/token", json=forged)
        assert token.status_code == 401 and token.json()["code"] == "auth.invalid"
        bad = {"signature": b64(bytes(64))}
        revokes = [
            client.post(f"/v1/devices/{d.device_id}/revoke", json=bad) for d in (known, stranger)
        ]
        assert revokes[0].status_code == revokes[1].status_code == 400
        assert revokes[0].json() == revokes[1].json()


def test_an_id_matches_whole(host: LiveHost) -> None:
    """A look-alike of a registered id with a trailing newline is not an id: 400, not stored."""
    with host.client() as client:
        original = Dev.new().join(client)
        twin = Dev.new()
        twin.device_id = original.device_id + "\n"
        refused = client.post("/v1/devices", json=twin.registration())
        assert refused.status_code == 400 and refused.json()["code"] == "input.invalid"
        path = client.get(f"/v1/devices/{original.device_id}%0A", headers=original.auth)
        assert path.status_code == 400


def test_invalid_tokens_are_rate_limited_before_any_lookup(tmp_path: Path) -> None:
    """Requests with made-up bearer tokens spend the caller's address bucket: past the burst
    they get 429 with Retry-After, as any other caller would."""
    limits = Limits(rate_per_s=0.5, rate_burst=5)
    with running_host(f"sqlite:///{tmp_path / 'host.db'}", limits) as live, live.client() as client:
        codes = [
            client.get("/v1/sync", headers={"authorization": f"Bearer {secrets.token_urlsafe(32)}"})
            for _ in range(12)
        ]
        statuses = [c.status_code for c in codes]
        assert statuses[:5] == [401] * 5
        assert 429 in statuses
        assert next(c for c in codes if c.status_code == 429).headers["retry-after"]


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    """``X-Forwarded-For`` from an untrusted peer changes nothing (an attacker cannot pick a
    fresh bucket per request)."""
    limits = Limits(rate_per_s=0.5, rate_burst=3)
    with running_host(f"sqlite:///{tmp_path / 'host.db'}", limits) as live, live.client() as client:
        statuses = [
            client.post(
                "/v1/auth/challenge",
                json={"device_id": "dev-x"},
                headers={"x-forwarded-for": f"10.0.0.{i}"},
            ).status_code
            for i in range(8)
        ]
        assert 429 in statuses


def test_the_database_file_is_private(host: LiveHost) -> None:
    """The SQLite file and its WAL and shared-memory files are readable by their owner only."""
    path = Path(host.db_url.removeprefix("sqlite:///"))
    with host.client() as client:
        Dev.new().join(client)
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        assert name.exists(), name
        assert name.stat().st_mode & 0o077 == 0, (name, oct(name.stat().st_mode))


def test_acknowledged_ciphertexts_are_purged_and_no_ack_time_is_kept(tmp_path: Path) -> None:
    """After an ack, the host keeps at most the day it happened; once the retention passed the
    ciphertext is gone, the unacknowledged one stays, and the record is untouched."""
    db = tmp_path / "host.db"
    limits = Limits(rate_per_s=0, retention_days=1, purge_every_s=0.2)
    with running_host(f"sqlite:///{db}", limits) as live, live.client() as client:
        alice, bob = Dev.new().join(client), Dev.new().join(client)
        talks = create_talks(client, alice)
        admit(client, talks, alice, bob)
        for n in range(2):
            assert send(client, talks, alice, {bob: b"sealed"}, f"m{n}").status_code == 201
        entry = {"client_msg_id": "m-rec", "ciphertexts": {}, "entry": b64(bytes(32))}
        logged = client.post(f"/v1/talks/{talks}/messages", json=entry, headers=alice.auth)
        assert logged.status_code == 201
        head = client.get(f"/v1/talks/{talks}/log/checkpoint", headers=alice.auth).json()
        assert client.post("/v1/sync/ack", json={"positions": [1]}, headers=bob.auth).json() == {
            "acked": 1
        }
        with sqlite3.connect(db) as conn:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(deliveries)")}
        assert "acked_at" not in columns
        live.clock.advance(3 * 86_400)
        bob.login(client)
        for _ in range(200):
            left = client.get("/v1/sync", headers=bob.auth).json()["deliveries"]
            if [d["position"] for d in left] == [2]:
                break
            time.sleep(0.05)
        assert [d["position"] for d in left] == [2]
        alice.login(client)
        after = client.get(f"/v1/talks/{talks}/log/checkpoint", headers=alice.auth).json()
        assert after["root"] == head["root"] and after["tree_size"] == head["tree_size"]


def test_an_upload_given_up_is_deleted_and_a_complete_blob_kept(tmp_path: Path) -> None:
    """A blob left incomplete for longer than the host keeps it goes with its chunks; a complete
    one stays readable, and the given-up id can be uploaded again from its first chunk."""
    db = tmp_path / "host.db"
    limits = Limits(rate_per_s=0, purge_every_s=0.2, abandoned_blob_s=3600)
    with running_host(f"sqlite:///{db}", limits) as live, live.client() as client:
        alice = Dev.new().join(client)
        talks = create_talks(client, alice)
        given_up, done = f"/v1/talks/{talks}/blobs/given-up", f"/v1/talks/{talks}/blobs/done"
        client.put(given_up, json={"chunks": 2, "size": 6}, headers=alice.auth)
        client.put(given_up + "/chunks/0", json={"data": b64(b"abc")}, headers=alice.auth)
        client.put(done, json={"chunks": 1, "size": 3}, headers=alice.auth)
        client.put(done + "/chunks/0", json={"data": b64(b"xyz")}, headers=alice.auth)
        live.clock.advance(2 * 3600)
        alice.login(client)
        for _ in range(200):
            if client.get(given_up, headers=alice.auth).status_code == 404:
                break
            time.sleep(0.05)
        assert client.get(given_up, headers=alice.auth).json()["code"] == "resource.not_found"
        kept = client.get(done + "/chunks/0", headers=alice.auth)
        assert kept.status_code == 200 and kept.json()["data"] == b64(b"xyz")
        again = client.put(given_up, json={"chunks": 2, "size": 6}, headers=alice.auth).json()
        assert again["missing"] == [0, 1]
