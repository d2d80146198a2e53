"""The store contract, run on SQLite and on PostgreSQL (the ``store`` fixture is parametrised)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from backchannel.errors import (
    Forbidden,
    InputError,
    InviteInvalid,
    NotFound,
    OneTimeKeyClaimed,
    StoreConflict,
)
from backchannel.store import Device, Invite, OneTimeKey, Store, Talks, Token, open_store
from backchannel.store.sql import DAY_MS, TABLES, load_migrations

T0 = 1_700_000_000_000


def make_device(store: Store, name: str, identity: bytes | None = None) -> Device:
    """Register a device with random opaque keys (the store never interprets them)."""
    device = Device(
        device_id=name,
        identity_key=identity or os.urandom(32),
        curve25519=os.urandom(32),
        ed25519=os.urandom(32),
        certificate=os.urandom(64),
        created_at=T0,
    )
    store.add_device(device)
    return device


def make_talks(store: Store, creator: str, talks_id: str = "talks-1") -> Talks:
    """Create a talks whose creator is admitted."""
    talks = Talks(talks_id, creator, T0)
    store.create_talks(talks)
    return talks


def admit(store: Store, talks_id: str, creator: str, device_id: str) -> None:
    """Admit a device through a fresh invite."""
    code_hash = os.urandom(32)
    store.add_invite(Invite(code_hash, talks_id, creator, T0, T0 + 60_000))
    assert store.accept_invite(code_hash, device_id, T0 + 1) == talks_id


def test_migrations_are_numbered_and_idempotent(store: Store, store_url: str) -> None:
    """Migrations are consecutive from 0001; migrating again (or reopening) changes nothing."""
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert store.schema_version() == versions[-1]
    assert store.migrate() == versions[-1]
    make_device(store, "dev-a")
    again = open_store(store_url)
    try:
        assert again.schema_version() == versions[-1]
        assert again.counts()["devices"] == 1
    finally:
        again.close()
    assert set(store.counts()) == set(TABLES)


def test_open_store_rejects_unknown_scheme() -> None:
    """A URL that names no supported engine is bad input, not a crash."""
    with pytest.raises(InputError):
        open_store("mysql://host/db")


def test_devices_register_lookup_and_conflict(store: Store) -> None:
    """Devices round-trip; a duplicate id or device key conflicts and stores nothing."""
    identity = os.urandom(32)
    a = make_device(store, "dev-a", identity)
    b = make_device(store, "dev-b", identity)
    assert store.get_device("dev-a") == a
    assert store.get_device("nope") is None
    assert [d.device_id for d in store.identity_devices(identity)] == ["dev-a", "dev-b"]
    with pytest.raises(StoreConflict):
        make_device(store, "dev-a")
    clash = Device("dev-c", os.urandom(32), os.urandom(32), b.ed25519, b"", T0)
    with pytest.raises(StoreConflict):
        store.add_device(clash)
    assert store.counts()["devices"] == 2
    assert store.counts()["identities"] == 1


def test_revocation_keeps_first_time(store: Store) -> None:
    """Revoking marks the device once; a second revocation keeps the first time."""
    make_device(store, "dev-a")
    first = store.revoke_device("dev-a", T0 + 5)
    assert first is not None and first.revoked and first.revoked_at == T0 + 5
    second = store.revoke_device("dev-a", T0 + 9)
    assert second is not None and second.revoked_at == T0 + 5
    assert store.revoke_device("nope", T0) is None


def test_one_time_keys_claim_once(store: Store) -> None:
    """Keys are handed out one by one, never twice; a named claimed key is refused."""
    make_device(store, "dev-a")
    make_device(store, "dev-b")
    keys = [OneTimeKey("dev-a", f"k{i}", os.urandom(32)) for i in range(3)]
    store.add_one_time_keys("dev-a", keys, T0)
    assert store.count_one_time_keys("dev-a") == 3
    got = [store.claim_one_time_key("dev-a", "dev-b", T0) for _ in range(3)]
    assert sorted(k.key_id for k in got if k) == ["k0", "k1", "k2"]
    assert store.claim_one_time_key("dev-a", "dev-b", T0) is None
    with pytest.raises(OneTimeKeyClaimed):
        store.claim_one_time_key("dev-a", "dev-b", T0, key_id="k1")
    assert store.claim_one_time_key("dev-a", "dev-b", T0, key_id="missing") is None
    assert store.count_one_time_keys("dev-a") == 0


def test_one_time_key_batch_is_atomic(store: Store) -> None:
    """A batch with one duplicate key id (even a claimed one) is rejected whole."""
    make_device(store, "dev-a")
    store.add_one_time_keys("dev-a", [OneTimeKey("dev-a", "k0", b"x" * 32)], T0)
    batch = [OneTimeKey("dev-a", "k1", b"y" * 32), OneTimeKey("dev-a", "k0", b"z" * 32)]
    with pytest.raises(StoreConflict):
        store.add_one_time_keys("dev-a", batch, T0)
    assert store.count_one_time_keys("dev-a") == 1
    with pytest.raises(StoreConflict):
        store.add_one_time_keys("ghost", [OneTimeKey("ghost", "k0", b"x")], T0)


def test_one_time_keys_claimed_once_under_concurrency(store: Store) -> None:
    """Eight threads racing to claim 40 keys get each key exactly once between them."""
    make_device(store, "dev-a")
    make_device(store, "dev-b")
    keys = [OneTimeKey("dev-a", f"k{i:02d}", os.urandom(32)) for i in range(40)]
    store.add_one_time_keys("dev-a", keys, T0)
    start = threading.Barrier(8)

    def claim_all() -> list[str]:
        start.wait()
        mine = []
        while True:
            try:
                key = store.claim_one_time_key("dev-a", "dev-b", T0)
            except OneTimeKeyClaimed:
                continue
            if key is None:
                return mine
            mine.append(key.key_id)

    with ThreadPoolExecutor(8) as pool:
        claimed = [k for batch in pool.map(lambda _: claim_all(), range(8)) for k in batch]
    assert sorted(claimed) == sorted(k.key_id for k in keys)


def test_talks_and_invites(store: Store) -> None:
    """The creator is admitted; an invite admits once, and not after it expires."""
    make_device(store, "dev-a")
    make_device(store, "dev-b")
    make_device(store, "dev-c")
    talks = make_talks(store, "dev-a")
    assert store.get_talks("talks-1") == talks
    assert store.get_talks("nope") is None
    with pytest.raises(StoreConflict):
        make_talks(store, "dev-b")
    assert store.is_admitted("talks-1", "dev-a")
    assert not store.is_admitted("talks-1", "dev-b")

    code = os.urandom(32)
    store.add_invite(Invite(code, "talks-1", "dev-a", T0, T0 + 1000))
    assert store.accept_invite(code, "dev-b", T0 + 10) == "talks-1"
    with pytest.raises(InviteInvalid):
        store.accept_invite(code, "dev-c", T0 + 20)
    late = os.urandom(32)
    store.add_invite(Invite(late, "talks-1", "dev-a", T0, T0 + 1000))
    with pytest.raises(InviteInvalid):
        store.accept_invite(late, "dev-c", T0 + 1000)
    with pytest.raises(InviteInvalid):
        store.accept_invite(os.urandom(32), "dev-c", T0)
    assert [d.device_id for d in store.members("talks-1")] == ["dev-a", "dev-b"]
    assert not store.is_admitted("talks-1", "dev-c")


def test_append_and_sync(store: Store) -> None:
    """Events get seq 1, 2, …; each recipient gets its own ciphertext at positions 1, 2, …."""
    for name in ("dev-a", "dev-b", "dev-c"):
        make_device(store, name)
    make_talks(store, "dev-a")
    for name in ("dev-b", "dev-c"):
        admit(store, "talks-1", "dev-a", name)
    first = store.append_event("talks-1", "dev-a", "m1", T0, {"dev-b": b"to-b", "dev-c": b"to-c"})
    assert first.created and first.event.seq == 1 and first.event.size == 8
    second = store.append_event("talks-1", "dev-b", "m1", T0 + 1, {"dev-c": b"again"})
    assert second.event.seq == 2
    assert store.get_event("talks-1", 1) == first.event
    assert store.get_talks("talks-1") == Talks("talks-1", "dev-a", T0, 2)

    for_c = store.deliveries("dev-c", 0, 100)
    assert [(d.position, d.seq, d.ciphertext, d.sender_device) for d in for_c] == [
        (1, 1, b"to-c", "dev-a"),
        (2, 2, b"again", "dev-b"),
    ]
    assert store.deliveries("dev-c", 1, 100) == for_c[1:]
    assert store.deliveries("dev-c", 0, 1) == for_c[:1]
    assert [d.ciphertext for d in store.deliveries("dev-b", 0, 100)] == [b"to-b"]
    assert store.deliveries("dev-a", 0, 100) == []
    assert store.last_position("dev-c") == 2
    assert store.ack("dev-c", [1, 2, 2, 99], T0 + 5) == 2
    assert store.ack("dev-c", [1], T0 + 6) == 0
    assert all(d.acked_day == (T0 + 5) // DAY_MS for d in store.deliveries("dev-c", 0, 100))


def test_append_is_idempotent_per_client_id(store: Store) -> None:
    """Resending the same client message id returns the first event and stores nothing new."""
    make_device(store, "dev-a")
    make_talks(store, "dev-a")
    first = store.append_event("talks-1", "dev-a", "m1", T0, {"dev-a": b"note"})
    again = store.append_event("talks-1", "dev-a", "m1", T0 + 9, {"dev-a": b"other"})
    assert not again.created and again.event == first.event
    assert store.counts()["events"] == 1 and store.counts()["deliveries"] == 1


def test_append_refuses_outsiders_atomically(store: Store) -> None:
    """A send with one unadmitted or revoked recipient is refused whole; unknown talks is 404."""
    for name in ("dev-a", "dev-b", "dev-x"):
        make_device(store, name)
    make_talks(store, "dev-a")
    admit(store, "talks-1", "dev-a", "dev-b")
    before = store.counts()
    with pytest.raises(Forbidden):
        store.append_event("talks-1", "dev-a", "m1", T0, {"dev-b": b"1", "dev-x": b"2"})
    with pytest.raises(Forbidden):
        store.append_event("talks-1", "dev-x", "m1", T0, {"dev-b": b"1"})
    store.revoke_device("dev-b", T0)
    with pytest.raises(Forbidden):
        store.append_event("talks-1", "dev-a", "m2", T0, {"dev-b": b"1"})
    with pytest.raises(NotFound):
        store.append_event("nope", "dev-a", "m1", T0, {"dev-a": b"1"})
    assert store.counts() == before
    assert store.get_talks("talks-1") == Talks("talks-1", "dev-a", T0, 0)


def test_sequences_gapless_under_concurrency(store: Store) -> None:
    """Six threads sending into two talks give each talks seq 1..n and each device 1..m."""
    for name in ("dev-a", "dev-b", "dev-c"):
        make_device(store, name)
    for talks_id in ("t1", "t2"):
        make_talks(store, "dev-a", talks_id)
        for name in ("dev-b", "dev-c"):
            admit(store, talks_id, "dev-a", name)
    start = threading.Barrier(6)

    def send(worker: int) -> None:
        start.wait()
        talks_id = ("t1", "t2")[worker % 2]
        sender = ("dev-a", "dev-b", "dev-c")[worker % 3]
        for i in range(15):
            store.append_event(
                talks_id, sender, f"w{worker}-{i}", T0, {"dev-b": b"b", "dev-c": b"c"}
            )

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(send, range(6)))
    for talks_id in ("t1", "t2"):
        talks = store.get_talks(talks_id)
        assert talks is not None and talks.last_seq == 45
        seqs = [store.get_event(talks_id, s) is not None for s in range(1, 46)]
        assert all(seqs)
    for name in ("dev-b", "dev-c"):
        positions = [d.position for d in store.deliveries(name, 0, 1000)]
        assert positions == list(range(1, 91))


def test_challenges_single_use(store: Store) -> None:
    """A challenge is consumed once; a replay, an expired or unknown one is told apart."""
    make_device(store, "dev-a")
    make_device(store, "dev-b")
    store.add_challenge(b"n1", "dev-a", T0 + 100)
    store.add_challenge(b"n2", "dev-a", T0 + 100)
    assert store.consume_challenge(b"n1", "dev-b", T0) == "unknown"
    assert store.consume_challenge(b"n1", "dev-a", T0) == "consumed"
    assert store.consume_challenge(b"n1", "dev-a", T0 + 1) == "replayed"
    assert store.consume_challenge(b"n2", "dev-a", T0 + 100) == "expired"
    assert store.consume_challenge(b"n3", "dev-a", T0) == "unknown"
    with pytest.raises(StoreConflict):
        store.add_challenge(b"n1", "dev-a", T0 + 100)


def test_tokens_and_purge(store: Store) -> None:
    """Tokens round-trip by hash; purging removes expired tokens and challenges only."""
    make_device(store, "dev-a")
    live, dead = Token(b"h-live", "dev-a", T0 + 100), Token(b"h-dead", "dev-a", T0)
    store.add_token(live)
    store.add_token(dead)
    store.add_challenge(b"n1", "dev-a", T0)
    assert store.get_token(b"h-live") == live
    assert store.get_token(b"nope") is None
    assert store.purge_expired(T0) == 2
    assert store.get_token(b"h-dead") is None
    assert store.get_token(b"h-live") == live
