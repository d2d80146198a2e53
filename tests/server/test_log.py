"""The record on the host, through real HTTP on both stores: leaves appended with their send,
signed checkpoints, inclusion and consistency proofs, entries, bad parameters, and durability.

Every proof is checked with :mod:`backchannel.record` exactly as a client would: against the
root of a checkpoint that verifies under the host's published log key.
"""

from __future__ import annotations

import base64
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from backchannel.errors import StoreError
from backchannel.record import (
    ConsistencyProof,
    InclusionProof,
    MerkleTree,
    NoteKey,
    leaf_hash,
    open_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from backchannel.record.checkpoint import Checkpoint
from backchannel.record.entry import Entry, stamp
from backchannel.server.auth import b64
from backchannel.server.log import load_log_key
from tests.server.conftest import Dev, LiveHost, admit, create_talks, database_url, send
from tests.server.test_durability import serve


def send_leaf(
    client: httpx.Client, talks_id: str, sender: Dev, to: Dev, msg_id: str, entry: bytes
) -> httpx.Response:
    """Send one ciphertext with a record entry (a commitment, and tags if any)."""
    body = {
        "client_msg_id": msg_id,
        "ciphertexts": {to.device_id: b64(os.urandom(24))},
        "entry": b64(entry),
    }
    return client.post(f"/v1/talks/{talks_id}/messages", json=body, headers=sender.auth)


def logged(entry: bytes, sent: httpx.Response) -> bytes:
    """The leaf the host logged for ``entry``: the entry stamped with the time it answered."""
    return stamp(entry, sent.json()["logged_at"])


def verified_checkpoint(client: httpx.Client, talks_id: str, dev: Dev) -> Checkpoint:
    """The talks' checkpoint, verified under the key ``GET /v1/log/key`` publishes."""
    key = client.get("/v1/log/key").json()
    got = client.get(f"/v1/talks/{talks_id}/log/checkpoint", headers=dev.auth)
    assert got.status_code == 200, got.text
    data = got.json()
    origin = key["origin_prefix"] + talks_id
    note_key = NoteKey(origin, base64.b64decode(key["public_key"]))
    assert data["vkey"] == note_key.vkey() and data["origin"] == origin
    checkpoint = open_checkpoint(data["checkpoint"], note_key)
    assert checkpoint.size == data["tree_size"]
    assert b64(checkpoint.root) == data["root"]
    return checkpoint


def hashes(data: dict[str, Any]) -> tuple[bytes, ...]:
    """The base64 hashes of a proof response."""
    return tuple(base64.b64decode(h) for h in data["path"])


@dataclass
class Pair:
    """Two admitted devices of one talks."""

    alice: Dev
    bob: Dev
    talks: str


@pytest.fixture
def pair(client: httpx.Client) -> Pair:
    """A fresh talks with two admitted devices (a fresh, empty log)."""
    alice, bob = Dev.new().join(client), Dev.new().join(client)
    talks = create_talks(client, alice)
    admit(client, talks, alice, bob)
    return Pair(alice, bob, talks)


def test_every_leaf_is_provable_against_every_later_checkpoint(
    client: httpx.Client, pair: Pair
) -> None:
    """Each acknowledged leaf has an inclusion proof against signed checkpoints, and every two
    checkpoints are joined by a consistency proof; roots equal the reference tree's."""
    leaves: list[bytes] = []
    checkpoints: list[Checkpoint] = []
    for i in range(21):
        sender, to = (pair.alice, pair.bob) if i % 2 else (pair.bob, pair.alice)
        entry = os.urandom(32 + 16 * (i % 3))
        sent = send_leaf(client, pair.talks, sender, to, f"m{i}", entry)
        assert sent.status_code == 201, sent.text
        assert sent.json()["leaf_index"] == i and sent.json()["tree_size"] == i + 1
        leaves.append(logged(entry, sent))
        assert Entry.parse(leaves[-1]).commitment == entry[:32]
        if i % 4 == 0 or i == 20:
            checkpoints.append(verified_checkpoint(client, pair.talks, pair.bob))
    for head in checkpoints:
        assert head.root == MerkleTree(leaves[: head.size]).root()
        for index in range(head.size):
            got = client.get(
                f"/v1/talks/{pair.talks}/log/inclusion?index={index}&size={head.size}",
                headers=pair.alice.auth,
            )
            assert got.status_code == 200, got.text
            proof = InclusionProof(index, head.size, hashes(got.json()))
            assert verify_inclusion(proof, leaf_hash(leaves[index]), head.root)
    for first in checkpoints:
        for second in checkpoints:
            if first.size > second.size:
                continue
            got = client.get(
                f"/v1/talks/{pair.talks}/log/consistency?from={first.size}&to={second.size}",
                headers=pair.bob.auth,
            )
            assert got.status_code == 200, got.text
            joined = ConsistencyProof(first.size, second.size, hashes(got.json()))
            assert verify_consistency(joined, first.root, second.root)
    entries = client.get(f"/v1/talks/{pair.talks}/log/entries?start=0", headers=pair.bob.auth)
    assert [base64.b64decode(e) for e in entries.json()["entries"]] == leaves
    page = client.get(
        f"/v1/talks/{pair.talks}/log/entries?start=3&end=7", headers=pair.bob.auth
    ).json()
    assert [base64.b64decode(e) for e in page["entries"]] == leaves[3:7]
    assert page["tree_size"] == 21


def test_replay_and_refused_sends_leave_the_log_unchanged(
    client: httpx.Client, live_host: LiveHost, pair: Pair
) -> None:
    """An idempotent re-send returns the first index and appends nothing; a send refused with
    403 (a recipient not admitted) is rolled back with its leaf; a send without one logs nothing."""
    outsider = Dev.new().join(client)
    entry = os.urandom(32)
    first = send_leaf(client, pair.talks, pair.alice, pair.bob, "once", entry)
    assert first.status_code == 201
    leaf = logged(entry, first)
    again = send_leaf(client, pair.talks, pair.alice, pair.bob, "once", os.urandom(32))
    assert again.status_code == 200
    assert again.json()["leaf_index"] == 0 and again.json()["tree_size"] == 1
    refused = send_leaf(client, pair.talks, pair.alice, outsider, "leak", os.urandom(32))
    assert refused.status_code == 403
    plain = send(client, pair.talks, pair.alice, {pair.bob: b"ack"}, "plumbing")
    assert plain.status_code == 201 and "leaf_index" not in plain.json()
    head = verified_checkpoint(client, pair.talks, pair.alice)
    assert head.size == 1 and head.root == MerkleTree([leaf]).root()
    with live_host.store() as store:
        assert store.log_size(pair.talks) == 1
        assert store.log_entries(pair.talks, 0, 10) == [leaf]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("inclusion?index=1&size=1", "record.range_invalid"),
        ("inclusion?index=0&size=5", "record.range_invalid"),
        ("inclusion?index=-1&size=1", "input.invalid"),
        ("inclusion?index=x&size=1", "input.invalid"),
        ("inclusion?size=1", "input.invalid"),
        ("inclusion?index=0&size=1.5", "input.invalid"),
        ("consistency?from=2&to=1", "record.range_invalid"),
        ("consistency?from=0&to=9", "record.range_invalid"),
        ("consistency?from=-2", "input.invalid"),
        ("consistency?to=1", "input.invalid"),
        ("entries?start=3", "record.range_invalid"),
        ("entries?start=0&end=5", "record.range_invalid"),
        ("entries?start=1&end=0", "record.range_invalid"),
        ("entries?start=99999999999999999999999", "input.invalid"),
    ],
)
def test_bad_log_parameters_are_4xx_with_a_code(
    client: httpx.Client, pair: Pair, query: str, code: str
) -> None:
    """Indexes or sizes outside the log, reversed ranges, negatives and non-integers are 400s."""
    for i in range(2):
        assert send_leaf(
            client, pair.talks, pair.alice, pair.bob, f"b{i}", os.urandom(32)
        ).is_success
    got = client.get(f"/v1/talks/{pair.talks}/log/{query}", headers=pair.alice.auth)
    assert got.status_code == 400, got.text
    assert got.headers["content-type"] == "application/problem+json"
    assert got.json()["code"] == code


@pytest.mark.parametrize(
    "entry",
    [
        "",
        "AAAA",
        b64(bytes(31)),
        b64(bytes(33)),
        b64(bytes(32 + 15)),
        b64(bytes(32 + 16 * 257)),
        "not base64!",
        7,
    ],
)
def test_a_malformed_entry_is_refused_and_stores_nothing(
    client: httpx.Client, pair: Pair, entry: object
) -> None:
    """An entry that is not base64 of a 32-byte commitment and up to 256 16-byte tags is 400
    (over the most tags too) and no event is stored."""
    body = {"client_msg_id": "bad", "ciphertexts": {pair.bob.device_id: b64(b"x")}, "entry": entry}
    got = client.post(f"/v1/talks/{pair.talks}/messages", json=body, headers=pair.alice.auth)
    assert got.status_code == 400, got.text
    talks = client.get(f"/v1/talks/{pair.talks}", headers=pair.alice.auth).json()
    assert talks["last_seq"] == 0


def test_log_routes_are_in_the_openapi_document(client: httpx.Client) -> None:
    """The five record routes are published, with their query parameters."""
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/log/key" in paths
    for name in ("checkpoint", "inclusion", "consistency", "entries"):
        assert f"/v1/talks/{{talks_id}}/log/{name}" in paths
    inclusion = paths["/v1/talks/{talks_id}/log/inclusion"]["get"]
    assert {p["name"] for p in inclusion["parameters"]} == {"talks_id", "index", "size"}
    send_schema = paths["/v1/talks/{talks_id}/messages"]["post"]["requestBody"]
    assert "entry" in send_schema["content"]["application/json"]["schema"]["properties"]


LOGGED = 240
SENDERS = 4


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_logged_sends_survive_kill_9(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """After SIGKILL and restart the log holds exactly the acknowledged leaves, its root is
    their recomputed root, and the new checkpoint verifies under the same (persisted) key."""
    db_url = database_url(engine, tmp_path, request)
    log = tmp_path / "serve.log"
    alice, bob = Dev.new(), Dev.new()
    acknowledged: dict[int, bytes] = {}
    with serve(db_url, log) as (proc, url):
        with httpx.Client(base_url=url, timeout=30) as client:
            alice.join(client)
            bob.join(client)
            talks = create_talks(client, alice)
            admit(client, talks, alice, bob)
            key_before = client.get("/v1/log/key").json()

        def sender(worker: int) -> dict[int, bytes]:
            done = {}
            with httpx.Client(base_url=url, timeout=30) as own:
                for i in range(worker, LOGGED, SENDERS):
                    entry = os.urandom(32)
                    sent = send_leaf(own, talks, alice, bob, f"m{i:04d}", entry)
                    if sent.status_code == 201:
                        done[sent.json()["leaf_index"]] = logged(entry, sent)
            return done

        with ThreadPoolExecutor(SENDERS) as pool:
            for done in pool.map(sender, range(SENDERS)):
                acknowledged.update(done)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert sorted(acknowledged) == list(range(LOGGED))

    with serve(db_url, log) as (_, url), httpx.Client(base_url=url, timeout=30) as client:
        bob.login(client)
        assert client.get("/v1/log/key").json() == key_before
        head = verified_checkpoint(client, talks, bob)
        entries: list[bytes] = []
        while len(entries) < head.size:
            page = client.get(
                f"/v1/talks/{talks}/log/entries?start={len(entries)}", headers=bob.auth
            ).json()
            entries += [base64.b64decode(e) for e in page["entries"]]
    assert head.size == LOGGED
    assert entries == [acknowledged[i] for i in range(LOGGED)]
    assert head.root == MerkleTree(entries).root()


def test_the_log_key_is_created_private_and_reloaded(tmp_path: Path) -> None:
    """serve's --log-key file is created with mode 0600, reloads to the same key, and a file
    that is not a 32-byte seed is refused with a store error rather than a crash."""
    path = tmp_path / "var" / "log.key"
    created = load_log_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert bytes(load_log_key(path).verify_key) == bytes(created.verify_key)
    path.write_bytes(b"short")
    with pytest.raises(StoreError):
        load_log_key(path)
