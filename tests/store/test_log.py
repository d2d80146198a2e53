"""The store-backed record (each talks' Merkle log), on SQLite and PostgreSQL.

The store's nodes must be exactly the in-memory :class:`~backchannel.record.tree.MerkleTree`'s,
so roots and proofs read through the store equal the reference ones for every size and batch.
"""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backchannel.errors import Forbidden, NotFound
from backchannel.record import (
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    root_at,
)
from backchannel.store import Store
from tests.store.test_store import admit, make_device, make_talks

T0 = 1_700_000_000_000
_counter = itertools.count()


class StoreReader:
    """A NodeReader over one talks' nodes in the store (one query per node: test-only)."""

    def __init__(self, store: Store, talks_id: str) -> None:
        self.store = store
        self.talks_id = talks_id

    def node(self, level: int, index: int) -> bytes:
        """The stored hash at ``(level, index)``."""
        return self.store.log_nodes(self.talks_id, [(level, index)])[(level, index)]


def fresh_talks(store: Store) -> str:
    """A new talks (and creator device) with an empty log."""
    n = next(_counter)
    creator = make_device(store, f"creator-{n}-{os.urandom(4).hex()}")
    return make_talks(store, creator.device_id, f"talks-{n}-{os.urandom(4).hex()}").talks_id


def all_addresses(size: int) -> list[tuple[int, int]]:
    """Every complete-subtree address of a tree of ``size`` leaves."""
    found = []
    level = 0
    while (1 << level) <= size:
        found += [(level, i) for i in range(size >> level)]
        level += 1
    return found


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(1, 60), min_size=1, max_size=8), data=st.data())
def test_store_log_matches_the_reference_tree(
    store: Store, batches: list[int], data: st.DataObject
) -> None:
    """Batched appends give the reference tree's nodes, roots and proofs at every size."""
    talks_id = fresh_talks(store)
    tree = MerkleTree()
    appended: list[bytes] = []
    for count in batches:
        entries = [os.urandom(32) for _ in range(count)]
        appended += entries
        assert store.log_append(talks_id, entries) == tree.extend(entries)
    size = tree.size
    assert store.log_size(talks_id) == size
    assert store.log_entries(talks_id, 0, size) == appended
    wanted = all_addresses(size)
    stored = store.log_nodes(talks_id, wanted)
    assert stored == {address: tree.node(*address) for address in wanted}
    reader = StoreReader(store, talks_id)
    sizes = data.draw(st.lists(st.integers(1, size), min_size=1, max_size=4))
    for m in sizes:
        assert root_at(reader, m) == tree.root(m)
        index = data.draw(st.integers(0, m - 1))
        assert inclusion_proof(reader, index, m) == tree.inclusion_proof(index, m)
        first = data.draw(st.integers(0, m))
        assert consistency_proof(reader, first, m) == tree.consistency_proof(first, m)


def test_entries_come_back_in_order_and_by_range(store: Store) -> None:
    """log_entries returns exactly the appended entries of [start, end), in order."""
    talks_id = fresh_talks(store)
    entries = [os.urandom(32) for _ in range(37)]
    store.log_append(talks_id, entries[:10])
    store.log_append(talks_id, entries[10:])
    assert store.log_entries(talks_id, 0, 37) == entries
    assert store.log_entries(talks_id, 5, 9) == entries[5:9]
    assert store.log_entries(talks_id, 30, 100) == entries[30:]
    assert store.log_entries(talks_id, 37, 40) == []


def test_send_with_a_leaf_logs_it_in_the_same_transaction(store: Store) -> None:
    """A send with a leaf gets the next index; a replay appends nothing; a refused send neither."""
    talks_id = fresh_talks(store)
    creator = store.members(talks_id)[0].device_id
    peer = make_device(store, f"peer-{os.urandom(4).hex()}").device_id
    outsider = make_device(store, f"outsider-{os.urandom(4).hex()}").device_id
    admit(store, talks_id, creator, peer)
    leaf = os.urandom(32)
    first = store.append_event(talks_id, creator, "m1", T0, {peer: b"x"}, leaf)
    assert first.created and first.event.leaf_index == 0 and first.tree_size == 1
    assert first.event.leaf == leaf
    plain = store.append_event(talks_id, creator, "m2", T0, {peer: b"y"})
    assert plain.event.leaf_index is None and plain.tree_size == 1
    again = store.append_event(talks_id, creator, "m1", T0, {peer: b"x"}, os.urandom(32))
    assert not again.created and again.event.leaf_index == 0 and again.tree_size == 1
    with pytest.raises(Forbidden):
        store.append_event(talks_id, creator, "m3", T0, {outsider: b"z"}, os.urandom(32))
    assert store.log_size(talks_id) == 1
    assert store.log_entries(talks_id, 0, 10) == [leaf]
    second = store.append_event(talks_id, peer, "m4", T0, {creator: b"w"}, os.urandom(32))
    assert second.event.leaf_index == 1 and second.tree_size == 2
    assert store.get_event(talks_id, second.event.seq) == second.event
    assert second.event.leaf is not None
    expected = MerkleTree([leaf, second.event.leaf]).root()
    assert root_at(StoreReader(store, talks_id), 2) == expected


def test_checkpoints_keep_the_first_per_size_and_report_the_latest(store: Store) -> None:
    """save_checkpoint keeps the first note per size; latest_checkpoint is the largest size."""
    talks_id = fresh_talks(store)
    assert store.latest_checkpoint(talks_id) is None
    store.save_checkpoint(talks_id, 2, "two")
    store.save_checkpoint(talks_id, 2, "two again")
    store.save_checkpoint(talks_id, 1, "one")
    assert store.latest_checkpoint(talks_id) == (2, "two")


def test_unknown_talks_has_no_log(store: Store) -> None:
    """Appending to or sizing an unknown talks is NotFound and creates nothing."""
    with pytest.raises(NotFound):
        store.log_size("no-such-talks")
    with pytest.raises(NotFound):
        store.log_append("no-such-talks", [os.urandom(32)])
    assert store.counts()["record_leaves"] == 0
