"""The append-only Merkle tree kept in memory: leaf hashes plus every complete-subtree root.

The tree stores one packed array of 32-byte hashes per level: level 0 holds the leaf hashes,
level ``l`` entry ``i`` the root of leaves ``[i * 2**l, (i + 1) * 2**l)``. A node is written once,
when its last leaf arrives, and never changes, which is what makes the log append-only and lets
a later store persist exactly these ``(level, index, hash)`` rows. Appending hashes one leaf and
on average one node; roots at any earlier size and proofs read O(log n) nodes through
:class:`~.merkle.NodeReader`, which this class implements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from backchannel.record.merkle import (
    HASH_SIZE,
    ConsistencyProof,
    InclusionProof,
    consistency_proof,
    inclusion_proof,
    root_at,
)

__all__ = ["MerkleTree"]

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class MerkleTree:
    """An in-memory RFC 9162 Merkle tree that only grows.

    Entries are the leaf data (for Backchannel, 32-byte commitments); the tree hashes them with
    the leaf prefix. Indexes count from 0.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, entries: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.extend(entries)

    def __repr__(self) -> str:
        return f"MerkleTree(size={self._size})"

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def copy(self) -> MerkleTree:
        """An independent tree with the same leaves (the node rows are copied, not rehashed)."""
        twin = MerkleTree()
        twin._levels = [bytearray(row) for row in self._levels]
        twin._size = self._size
        return twin

    def node(self, level: int, index: int) -> bytes:
        """Return the root of leaves ``[index * 2**level, (index + 1) * 2**level)``.

        Raises ``IndexError`` when that subtree is not complete yet.
        """
        if level < 0 or index < 0 or level >= len(self._levels):
            raise IndexError(f"no node at level {level}, index {index}")
        row = self._levels[level]
        offset = index * HASH_SIZE
        if offset + HASH_SIZE > len(row):
            raise IndexError(f"no node at level {level}, index {index}")
        return bytes(row[offset : offset + HASH_SIZE])

    def leaf_hash(self, index: int) -> bytes:
        """Return the hash of leaf ``index``."""
        return self.node(0, index)

    def append(self, entry: bytes) -> int:
        """Add one entry as the next leaf and return its index.

        Completes the perfect subtrees the new leaf closes: one node hash on average.
        """
        index = self._size
        self._levels[0] += hashlib.sha256(_LEAF_PREFIX + entry).digest()
        self._size = index + 1
        level, i = 0, index
        while i & 1:
            row = self._levels[level]
            pair = row[len(row) - 2 * HASH_SIZE :]
            if level + 1 == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level + 1] += hashlib.sha256(_NODE_PREFIX + pair).digest()
            level += 1
            i >>= 1
        return index

    def extend(self, entries: Iterable[bytes]) -> int:
        """Add entries as leaves in order and return the new size.

        Hashes all leaves first and then fills each level from the one below in a single pass,
        which does the same hashing as repeated :meth:`append` with less bookkeeping.
        """
        sha256 = hashlib.sha256
        leaves = self._levels[0]
        for entry in entries:
            leaves += sha256(_LEAF_PREFIX + entry).digest()
        self._size = len(leaves) // HASH_SIZE
        level = 0
        while True:
            below = self._levels[level]
            complete = len(below) // (2 * HASH_SIZE)
            if level + 1 == len(self._levels):
                if complete == 0:
                    break
                self._levels.append(bytearray())
            above = self._levels[level + 1]
            have = len(above) // HASH_SIZE
            if have == complete:
                break
            step = 2 * HASH_SIZE
            for offset in range(have * step, complete * step, step):
                above += sha256(_NODE_PREFIX + below[offset : offset + step]).digest()
            level += 1
        return self._size

    def root(self, size: int | None = None) -> bytes:
        """Return the root hash at ``size`` leaves (default: now); O(log n) node reads."""
        return root_at(self, self._checked_size(size))

    def inclusion_proof(self, leaf_index: int, size: int | None = None) -> InclusionProof:
        """Return the proof that leaf ``leaf_index`` is in the tree of ``size`` leaves."""
        return inclusion_proof(self, leaf_index, self._checked_size(size))

    def consistency_proof(
        self, first_size: int, second_size: int | None = None
    ) -> ConsistencyProof:
        """Return the proof that the tree at ``first_size`` is a prefix of it at ``second_size``."""
        return consistency_proof(self, first_size, self._checked_size(second_size))

    def _checked_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise ValueError(f"size {size} is outside a tree of {self._size} leaves")
        return size
