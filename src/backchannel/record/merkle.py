"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs, and their verification.

This module is the arithmetic of the record: how leaves and nodes are hashed (RFC 9162 §2.1.1),
how a proof is cut out of a tree (§2.1.3.1, §2.1.4.1) and how a verifier checks one (§2.1.3.2,
§2.1.4.2). It holds no tree itself: proof generation reads stored nodes through the tiny
:class:`NodeReader` protocol, so the same code serves the in-memory :class:`~.tree.MerkleTree`
today and a database table later.

Node addressing: ``node(level, index)`` is the root of the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes. A node exists
once the tree has ``(index + 1) * 2**level`` leaves and never changes afterwards. Every subtree
the RFC's recursion names is aligned, so its hash is a right fold of at most ``log2(n)`` such
nodes; proofs therefore cost O(log n) lookups.

Verification API: ``verify_inclusion`` and ``verify_consistency`` return a bool;
``check_inclusion`` raises :class:`~backchannel.errors.ProofInvalid` and ``check_consistency``
raises :class:`~backchannel.errors.LogInconsistent`, each with a sentence saying what failed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from backchannel.errors import LogInconsistent, ProofInvalid

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "ConsistencyProof",
    "InclusionProof",
    "NodeReader",
    "check_consistency",
    "check_inclusion",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_at",
    "subtree_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 digest, the only hash this record uses."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = HASH(), the root of the empty tree (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

# Sizes and indexes travel as uint64 in RFC 9162 and in checkpoints.
_MAX_SIZE = 2**64 - 1


def leaf_hash(data: bytes) -> bytes:
    """Return the leaf hash ``SHA-256(0x00 || data)`` of one entry (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash ``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


class NodeReader(Protocol):
    """Read access to stored perfect-subtree roots, addressed by ``(level, index)``.

    ``node(level, index)`` must return the 32-byte root of leaves
    ``[index * 2**level, (index + 1) * 2**level)``. Callers only ask for nodes that exist at the
    tree size they pass to the functions below.
    """

    def node(self, level: int, index: int) -> bytes:
        """Return the hash stored at ``(level, index)``."""
        ...


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """An audit path for leaf ``leaf_index`` in the tree of ``tree_size`` leaves (RFC 9162 §2.1.3).

    ``path`` lists sibling hashes from the leaf up to the root, as the RFC's ``PATH`` does.
    """

    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Evidence that the tree of ``first_size`` leaves is a prefix of the one of ``second_size``.

    ``path`` is the RFC's ``PROOF(first, D[second])`` (RFC 9162 §2.1.4). It is empty when the
    sizes are equal or the first tree is empty: those cases are decided by the roots alone.
    """

    first_size: int
    second_size: int
    path: tuple[bytes, ...]


# --- generation over a NodeReader ------------------------------------------------------------


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): the RFC's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """Return ``MTH(D[start:end])`` for an aligned range, from at most log2(n) stored nodes.

    ``start`` must be a multiple of the smallest power of two that is at least ``end - start``,
    which holds for the whole tree and for every subtree the RFC's recursion names. The range
    splits greedily into perfect subtrees, largest first, and the RFC's recursion then folds
    them from the right.
    """
    if end <= start:
        if end == start == 0:
            return EMPTY_ROOT
        raise ValueError(f"empty or reversed range [{start}, {end})")
    pieces: list[bytes] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start & ((1 << level) - 1):
            raise ValueError(f"range starting at {start} is not aligned")
        pieces.append(reader.node(level, start >> level))
        start += 1 << level
    acc = pieces[-1]
    for piece in reversed(pieces[:-1]):
        acc = node_hash(piece, acc)
    return acc


def root_at(reader: NodeReader, size: int) -> bytes:
    """Return ``MTH(D[0:size])``, the root of the tree's first ``size`` leaves."""
    if size == 0:
        return EMPTY_ROOT
    return subtree_hash(reader, 0, size)


def inclusion_proof(reader: NodeReader, leaf_index: int, tree_size: int) -> InclusionProof:
    """Return ``PATH(leaf_index, D[0:tree_size])`` (RFC 9162 §2.1.3.1), unrolled into a loop.

    Each step of the RFC's recursion keeps the half holding the leaf and records the other
    half's root; the recorded hashes are then reversed so the path runs leaf to root.
    """
    if not 0 <= leaf_index < tree_size:
        raise ValueError(f"leaf index {leaf_index} is not in a tree of {tree_size} leaves")
    path: list[bytes] = []
    start, end = 0, tree_size
    while end - start > 1:
        k = _largest_power_below(end - start)
        if leaf_index < start + k:
            path.append(subtree_hash(reader, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(reader, start, start + k))
            start += k
    path.reverse()
    return InclusionProof(leaf_index, tree_size, tuple(path))


def consistency_proof(reader: NodeReader, first_size: int, second_size: int) -> ConsistencyProof:
    """Return ``PROOF(first_size, D[0:second_size])`` (RFC 9162 §2.1.4.1), unrolled into a loop.

    The RFC defines the proof for ``0 < first < second``; for ``first == 0`` or
    ``first == second`` the proof is empty (see :func:`check_consistency`).
    """
    if not 0 <= first_size <= second_size:
        raise ValueError(f"no consistency proof from size {first_size} to {second_size}")
    if first_size in (0, second_size):
        return ConsistencyProof(first_size, second_size, ())
    path: list[bytes] = []
    start, end, m = 0, second_size, first_size
    # ``whole`` is the RFC's flag b: true while the old tree is still the left edge of the
    # current subtree, in which case the verifier knows its root and it is left out.
    whole = True
    while m != end - start:
        k = _largest_power_below(end - start)
        if m <= k:
            path.append(subtree_hash(reader, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(reader, start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        path.append(subtree_hash(reader, start, end))
    path.reverse()
    return ConsistencyProof(first_size, second_size, tuple(path))


# --- verification ----------------------------------------------------------------------------


def _valid_hashes(hashes: Sequence[bytes]) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def _inclusion_failure(proof: InclusionProof, leaf: bytes, root: bytes) -> str | None:
    """Run RFC 9162 §2.1.3.2 and return why it fails, or None when the proof holds."""
    index, size = proof.leaf_index, proof.tree_size
    if not 0 <= index < size <= _MAX_SIZE:
        return f"leaf index {index} is not inside a tree of {size} leaves"
    if not _valid_hashes(proof.path) or not _valid_hashes((leaf, root)):
        return "a hash in the proof is not 32 bytes"
    fn, sn = index, size - 1
    r = leaf
    for p in proof.path:
        if sn == 0:
            return "the inclusion path is longer than the tree is deep"
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return "the inclusion path is shorter than the tree is deep"
    if not hmac.compare_digest(r, root):
        return "the inclusion path does not lead to the tree's root"
    return None


def verify_inclusion(proof: InclusionProof, leaf: bytes, root: bytes) -> bool:
    """Return whether ``proof`` shows leaf hash ``leaf`` at its index under ``root``.

    ``leaf`` is the leaf *hash* (:func:`leaf_hash` of the entry). Implements RFC 9162 §2.1.3.2.
    """
    return _inclusion_failure(proof, leaf, root) is None


def check_inclusion(proof: InclusionProof, leaf: bytes, root: bytes) -> None:
    """Like :func:`verify_inclusion`, but raise :class:`ProofInvalid` naming what failed."""
    reason = _inclusion_failure(proof, leaf, root)
    if reason is not None:
        raise ProofInvalid(
            f"Inclusion proof rejected: {reason}.",
            detail={"leaf_index": proof.leaf_index, "tree_size": proof.tree_size},
        )


def _consistency_failure(
    proof: ConsistencyProof, first_root: bytes, second_root: bytes
) -> str | None:
    """Run RFC 9162 §2.1.4.2 and return why it fails, or None when the proof holds."""
    first, second, path = proof.first_size, proof.second_size, proof.path
    if not 0 <= first <= second <= _MAX_SIZE:
        return f"a tree of {first} leaves cannot precede one of {second}"
    if not _valid_hashes(path) or not _valid_hashes((first_root, second_root)):
        return "a hash in the proof is not 32 bytes"
    if first == second:
        # Equal sizes: the heads must be identical and the proof carries nothing.
        if path:
            return "a proof between equal sizes must be empty"
        if not hmac.compare_digest(first_root, second_root):
            return "two different roots were signed for the same size"
        return None
    if first == 0:
        # Every tree extends the empty tree, whose root is fixed.
        if path:
            return "a proof from the empty tree must be empty"
        if not hmac.compare_digest(first_root, EMPTY_ROOT):
            return "the root given for the empty tree is not the empty hash"
        return None
    if not path:
        return "the consistency path is empty"
    nodes = list(path)
    if first & (first - 1) == 0:
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return "the consistency path is longer than the tree is deep"
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return "the consistency path is shorter than the tree is deep"
    if not hmac.compare_digest(fr, first_root):
        return "the path does not rebuild the earlier root"
    if not hmac.compare_digest(sr, second_root):
        return "the path does not rebuild the later root"
    return None


def verify_consistency(proof: ConsistencyProof, first_root: bytes, second_root: bytes) -> bool:
    """Return whether ``proof`` shows the tree with ``first_root`` is a prefix of ``second_root``'s.

    Implements RFC 9162 §2.1.4.2 for ``0 < first < second``; equal sizes need equal roots and an
    empty proof, and size 0 needs the empty root and an empty proof.
    """
    return _consistency_failure(proof, first_root, second_root) is None


def check_consistency(proof: ConsistencyProof, first_root: bytes, second_root: bytes) -> None:
    """Like :func:`verify_consistency`, but raise :class:`LogInconsistent` naming what failed.

    A consistency failure means the log could not show one history behind both heads, whether
    the proof is garbage or the heads are a split view, so it is reported as an inconsistency.
    """
    reason = _consistency_failure(proof, first_root, second_root)
    if reason is not None:
        raise LogInconsistent(
            f"Consistency proof rejected: {reason}.",
            detail={"first_size": proof.first_size, "second_size": proof.second_size},
        )
