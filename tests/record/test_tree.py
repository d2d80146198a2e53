"""The in-memory append-only tree: storage by (level, index), append versus extend, bounds,
and the proof functions running over any NodeReader (here a plain dict, as a store would be)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.record.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from backchannel.record.tree import MerkleTree


class DictReader:
    """A NodeReader over a dict of (level, index) rows, standing in for a database table."""

    def __init__(self, rows: dict[tuple[int, int], bytes]) -> None:
        self.rows = rows
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.rows[(level, index)]


def rows_of(tree: MerkleTree) -> dict[tuple[int, int], bytes]:
    """Every stored node of ``tree``, addressed (level, index)."""
    rows: dict[tuple[int, int], bytes] = {}
    level = 0
    while (tree.size >> level) > 0:
        for index in range(tree.size >> level):
            rows[(level, index)] = tree.node(level, index)
        level += 1
    return rows


def test_small_tree_by_hand() -> None:
    """Three leaves: the stored nodes and the root are the RFC hashes written out by hand."""
    tree = MerkleTree()
    assert [tree.append(e) for e in (b"a", b"b", b"c")] == [0, 1, 2]
    a, b, c = (hashlib.sha256(b"\x00" + e).digest() for e in (b"a", b"b", b"c"))
    ab = hashlib.sha256(b"\x01" + a + b).digest()
    assert tree.node(0, 2) == c
    assert tree.node(1, 0) == ab
    assert tree.root() == hashlib.sha256(b"\x01" + ab + c).digest()
    with pytest.raises(IndexError):
        tree.node(1, 1)
    assert repr(tree) == "MerkleTree(size=3)"


@settings(max_examples=50)
@given(sizes=st.lists(st.integers(0, 300), max_size=6))
def test_extend_in_batches_equals_appending_one_by_one(sizes: list[int]) -> None:
    """Batched extends of any split store exactly the nodes single appends store."""
    single, batched = MerkleTree(), MerkleTree()
    for batch_no, size in enumerate(sizes):
        batch = [b"%d-%d" % (batch_no, n) for n in range(size)]
        for e in batch:
            single.append(e)
        assert batched.extend(batch) == single.size
    assert rows_of(single) == rows_of(batched)
    assert single.root() == batched.root()


@settings(max_examples=30)
@given(n=st.integers(1, 2000))
def test_every_complete_subtree_is_stored_and_none_other(n: int) -> None:
    """Node (level, index) exists exactly when its 2**level leaves are all present, and equals
    the hash of its two children."""
    tree = MerkleTree(b"%d" % i for i in range(n))
    for level in range(1, n.bit_length() + 1):
        count = n >> level
        for index in range(count):
            assert tree.node(level, index) == node_hash(
                tree.node(level - 1, 2 * index), tree.node(level - 1, 2 * index + 1)
            )
        with pytest.raises(IndexError):
            tree.node(level, count)


@settings(max_examples=30)
@given(data=st.data())
def test_proofs_over_a_node_table_read_logarithmically_many_nodes(data: st.DataObject) -> None:
    """The proof functions work over a dict of (level, index) rows and read O(log n) of them."""
    n = data.draw(st.integers(1, 5000), label="size")
    tree = MerkleTree(b"%d" % i for i in range(n))
    reader = DictReader(rows_of(tree))
    i = data.draw(st.integers(0, n - 1), label="index")
    m = data.draw(st.integers(0, n), label="first")
    bound = 2 * n.bit_length() + 2
    reader.reads = 0
    root = root_at(reader, n)
    assert root == tree.root() and reader.reads <= bound
    reader.reads = 0
    proof = inclusion_proof(reader, i, n)
    assert reader.reads <= bound
    assert verify_inclusion(proof, leaf_hash(b"%d" % i), root)
    reader.reads = 0
    cproof = consistency_proof(reader, m, n)
    assert reader.reads <= bound
    assert verify_consistency(cproof, tree.root(m), root)


def test_sizes_and_indexes_out_of_range_are_refused() -> None:
    """Roots and proofs beyond the current size, or negative, raise ValueError."""
    tree = MerkleTree([b"x"] * 4)
    for call in (
        lambda: tree.root(5),
        lambda: tree.root(-1),
        lambda: tree.inclusion_proof(4),
        lambda: tree.inclusion_proof(0, 0),
        lambda: tree.consistency_proof(3, 2),
        lambda: tree.consistency_proof(1, 5),
    ):
        with pytest.raises(ValueError):
            call()
    assert len(tree) == 4
