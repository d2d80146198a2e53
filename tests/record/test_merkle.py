"""RFC 9162 hashing and proofs checked against a naive transcription of the RFC's definitions.

``mth``, ``path`` and ``proof`` below are the recursive definitions of RFC 9162 §2.1.1, §2.1.3.1
and §2.1.4.1 written as directly as possible (memoised only so the exhaustive loops stay fast).
The library's loop-based generation must produce exactly the same hashes, its verifiers must
accept them, and any single-bit change must be rejected, except where the RFC's proof shape does
not pin the claimed size, which is characterised exactly against the recursion.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.errors import LogInconsistent, ProofInvalid
from backchannel.record.merkle import (
    EMPTY_ROOT,
    ConsistencyProof,
    InclusionProof,
    check_consistency,
    check_inclusion,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from backchannel.record.tree import MerkleTree

SMALL = 130
LARGE = 100_000


def entry(i: int) -> bytes:
    """The i-th entry of the shared test log."""
    return b"event-%d" % i


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- the RFC, transcribed naively over the shared entries D[start:end] -----------------------


def k_of(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def mth(start: int, end: int) -> bytes:
    """MTH(D[start:end]) exactly as RFC 9162 §2.1.1 defines it."""
    n = end - start
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + entry(start))
    k = k_of(n)
    return sha(b"\x01" + mth(start, start + k) + mth(start + k, end))


def path(m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]) from RFC 9162 §2.1.3.1."""
    n = end - start
    if n == 1:
        return []
    k = k_of(n)
    if m < k:
        return [*path(m, start, start + k), mth(start + k, end)]
    return [*path(m - k, start + k, end), mth(start, start + k)]


def subproof(m: int, start: int, end: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) from RFC 9162 §2.1.4.1."""
    n = end - start
    if m == n:
        return [] if b else [mth(start, end)]
    k = k_of(n)
    if m <= k:
        return [*subproof(m, start, start + k, b), mth(start + k, end)]
    return [*subproof(m - k, start + k, end, False), mth(start, start + k)]


def proof(m: int, n: int) -> list[bytes]:
    """PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) for 0 < m < n (RFC 9162 §2.1.4.1)."""
    return subproof(m, 0, n, True)


def path_trace(m: int, n: int) -> tuple[str, ...]:
    """The left/right choices the PATH recursion makes: the proof's shape, without hashes."""
    if n == 1:
        return ()
    k = k_of(n)
    if m < k:
        return (*path_trace(m, k), "R")
    return (*path_trace(m - k, n - k), "L")


def proof_trace(m: int, n: int, b: bool = True) -> tuple[str, ...]:
    """The choices the SUBPROOF recursion makes, and whether it ends with the old root."""
    if m == n:
        return ("end", str(b))
    k = k_of(n)
    if m <= k:
        return (*proof_trace(m, k, b), "R")
    return (*proof_trace(m - k, n - k, False), "L")


# --- shared trees ----------------------------------------------------------------------------


@cache
def small_tree() -> MerkleTree:
    return MerkleTree(entry(i) for i in range(SMALL))


@cache
def large_tree() -> MerkleTree:
    return MerkleTree(entry(i) for i in range(LARGE))


def flip(data: bytes, bit: int) -> bytes:
    """``data`` with one bit inverted."""
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- hashing ---------------------------------------------------------------------------------


def test_hash_prefixes_follow_rfc() -> None:
    """Leaf and node hashes use the 0x00 and 0x01 prefixes; the empty root is SHA-256 of nothing."""
    assert leaf_hash(b"abc") == sha(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == sha(b"\x01" + b"L" * 32 + b"R" * 32)
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MerkleTree().root() == EMPTY_ROOT


def test_roots_match_rfc_for_every_small_size() -> None:
    """The tree's root at every size up to 130 equals the RFC's recursive MTH."""
    tree = small_tree()
    for n in range(SMALL + 1):
        assert tree.root(n) == mth(0, n)


# --- inclusion -------------------------------------------------------------------------------


def test_inclusion_proofs_match_rfc_and_verify_exhaustively() -> None:
    """For every size n ≤ 130 and index i < n the proof is PATH(i, D[n]) and it verifies."""
    tree = small_tree()
    for n in range(1, SMALL + 1):
        root = mth(0, n)
        for i in range(n):
            p = tree.inclusion_proof(i, n)
            assert p == InclusionProof(i, n, tuple(path(i, 0, n)))
            assert verify_inclusion(p, leaf_hash(entry(i)), root)


def test_inclusion_rejects_every_bit_flip_in_small_trees() -> None:
    """Up to 24 leaves, flipping any bit of any path hash, the leaf or the root fails."""
    tree = small_tree()
    for n in range(1, 25):
        root = tree.root(n)
        for i in range(n):
            p = tree.inclusion_proof(i, n)
            leaf = leaf_hash(entry(i))
            for bit in range(256):
                assert not verify_inclusion(p, flip(leaf, bit), root)
                assert not verify_inclusion(p, leaf, flip(root, bit))
                for j in range(len(p.path)):
                    bad = (*p.path[:j], flip(p.path[j], bit), *p.path[j + 1 :])
                    assert not verify_inclusion(replace(p, path=bad), leaf, root)


def test_inclusion_size_and_index_flips_fail_unless_same_shape() -> None:
    """Flipping a bit of the index always fails; flipping one of the size fails exactly when the
    RFC's PATH recursion takes a different shape for the claimed size (the size is bound by the
    signed tree head, not by the path)."""
    tree = small_tree()
    for n in range(1, SMALL + 1):
        root = tree.root(n)
        for i in range(n):
            p = tree.inclusion_proof(i, n)
            leaf = leaf_hash(entry(i))
            for bit in range(9):
                assert not verify_inclusion(replace(p, leaf_index=i ^ (1 << bit)), leaf, root)
                n2 = n ^ (1 << bit)
                same = i < n2 and path_trace(i, n2) == path_trace(i, n)
                assert verify_inclusion(replace(p, tree_size=n2), leaf, root) == same


@settings(max_examples=25)
@given(data=st.data())
def test_inclusion_in_large_trees(data: st.DataObject) -> None:
    """In trees up to 10^5 leaves, proofs equal the RFC's PATH, verify, and any bit flip of a
    path hash, the leaf, the root or the index fails."""
    n = data.draw(st.integers(1, LARGE), label="size")
    i = data.draw(st.integers(0, n - 1), label="index")
    tree = large_tree()
    p = tree.inclusion_proof(i, n)
    root = tree.root(n)
    assert root == mth(0, n)
    assert list(p.path) == path(i, 0, n)
    leaf = leaf_hash(entry(i))
    assert verify_inclusion(p, leaf, root)
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_inclusion(p, flip(leaf, bit), root)
    assert not verify_inclusion(p, leaf, flip(root, bit))
    if p.path:
        j = data.draw(st.integers(0, len(p.path) - 1), label="element")
        bad = (*p.path[:j], flip(p.path[j], bit), *p.path[j + 1 :])
        assert not verify_inclusion(replace(p, path=bad), leaf, root)
    ibit = data.draw(st.integers(0, 63), label="index bit")
    assert not verify_inclusion(replace(p, leaf_index=i ^ (1 << ibit)), leaf, root)


def test_inclusion_rejects_malformed_claims() -> None:
    """Out-of-range indexes, extra or missing path hashes and short hashes are rejected."""
    tree = small_tree()
    p = tree.inclusion_proof(5, 13)
    leaf, root = leaf_hash(entry(5)), tree.root(13)
    assert not verify_inclusion(replace(p, leaf_index=13), leaf, root)
    assert not verify_inclusion(replace(p, leaf_index=-1), leaf, root)
    assert not verify_inclusion(replace(p, path=(*p.path, p.path[-1])), leaf, root)
    assert not verify_inclusion(replace(p, path=p.path[:-1]), leaf, root)
    assert not verify_inclusion(replace(p, path=(p.path[0][:31], *p.path[1:])), leaf, root)
    assert not verify_inclusion(p, leaf[:31], root)


def test_check_inclusion_raises_proof_invalid_with_a_reason() -> None:
    """``check_inclusion`` is silent on a good proof and raises ProofInvalid naming the failure."""
    tree = small_tree()
    p = tree.inclusion_proof(3, 10)
    check_inclusion(p, leaf_hash(entry(3)), tree.root(10))
    with pytest.raises(ProofInvalid, match="does not lead to the tree's root") as info:
        check_inclusion(p, leaf_hash(entry(4)), tree.root(10))
    assert info.value.code == "record.proof_invalid"


# --- consistency -----------------------------------------------------------------------------


def test_consistency_proofs_match_rfc_and_verify_for_every_pair() -> None:
    """For every 0 ≤ m ≤ n ≤ 130 the proof is PROOF(m, D[n]) (empty for m = 0 or m = n)
    and it verifies between the two roots."""
    tree = small_tree()
    for n in range(SMALL + 1):
        for m in range(n + 1):
            p = tree.consistency_proof(m, n)
            expected = proof(m, n) if 0 < m < n else []
            assert p == ConsistencyProof(m, n, tuple(expected))
            assert verify_consistency(p, mth(0, m), mth(0, n))


def test_consistency_rejects_every_bit_flip_in_small_trees() -> None:
    """Up to 24 leaves, flipping any bit of a proof hash or of either root fails; the one
    exception is the later root after an empty first tree, which every tree extends."""
    tree = small_tree()
    for n in range(25):
        for m in range(n + 1):
            p = tree.consistency_proof(m, n)
            r1, r2 = tree.root(m), tree.root(n)
            for bit in range(256):
                assert not verify_consistency(p, flip(r1, bit), r2)
                assert verify_consistency(p, r1, flip(r2, bit)) == (m == 0 < n)
                for j in range(len(p.path)):
                    bad = (*p.path[:j], flip(p.path[j], bit), *p.path[j + 1 :])
                    assert not verify_consistency(replace(p, path=bad), r1, r2)


def test_consistency_size_flips_fail_unless_same_shape() -> None:
    """Flipping a bit of either size fails exactly when the RFC's SUBPROOF recursion takes a
    different shape for the claimed sizes."""
    tree = small_tree()
    for n in range(1, 70):
        for m in range(1, n):
            p = tree.consistency_proof(m, n)
            r1, r2 = tree.root(m), tree.root(n)
            for bit in range(8):
                for m2, n2 in ((m ^ (1 << bit), n), (m, n ^ (1 << bit))):
                    same = 0 < m2 < n2 and proof_trace(m2, n2) == proof_trace(m, n)
                    claimed = replace(p, first_size=m2, second_size=n2)
                    assert verify_consistency(claimed, r1, r2) == same, (m, n, m2, n2)


@settings(max_examples=25)
@given(data=st.data())
def test_consistency_in_large_trees(data: st.DataObject) -> None:
    """In trees up to 10^5 leaves, proofs equal the RFC's PROOF, verify, and a bit flip of a
    proof hash or either root fails."""
    n = data.draw(st.integers(2, LARGE), label="second")
    m = data.draw(st.integers(1, n - 1), label="first")
    tree = large_tree()
    p = tree.consistency_proof(m, n)
    assert list(p.path) == proof(m, n)
    r1, r2 = tree.root(m), tree.root(n)
    assert verify_consistency(p, r1, r2)
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_consistency(p, flip(r1, bit), r2)
    assert not verify_consistency(p, r1, flip(r2, bit))
    j = data.draw(st.integers(0, len(p.path) - 1), label="element")
    bad = (*p.path[:j], flip(p.path[j], bit), *p.path[j + 1 :])
    assert not verify_consistency(replace(p, path=bad), r1, r2)


def test_consistency_edge_cases() -> None:
    """Equal sizes need equal roots and no path; size 0 needs the empty root; a rollback or an
    empty path between different sizes is rejected."""
    tree = small_tree()
    r5, r9 = tree.root(5), tree.root(9)
    assert verify_consistency(ConsistencyProof(5, 5, ()), r5, r5)
    assert not verify_consistency(ConsistencyProof(5, 5, ()), r5, r9)
    assert not verify_consistency(ConsistencyProof(5, 5, (r5,)), r5, r5)
    assert verify_consistency(ConsistencyProof(0, 9, ()), EMPTY_ROOT, r9)
    assert not verify_consistency(ConsistencyProof(0, 9, ()), r5, r9)
    assert not verify_consistency(ConsistencyProof(0, 9, (r5,)), EMPTY_ROOT, r9)
    assert not verify_consistency(ConsistencyProof(9, 5, ()), r9, r5)
    assert not verify_consistency(ConsistencyProof(5, 9, ()), r5, r9)
    good = tree.consistency_proof(5, 9)
    assert not verify_consistency(replace(good, path=(*good.path, r5)), r5, r9)
    assert not verify_consistency(replace(good, path=good.path[:-1]), r5, r9)


def test_check_consistency_raises_log_inconsistent() -> None:
    """A split view (another root at the later size) raises LogInconsistent with a sentence."""
    tree = small_tree()
    other = MerkleTree(entry(i) if i != 7 else b"rewritten" for i in range(20))
    p = tree.consistency_proof(5, 20)
    check_consistency(p, tree.root(5), tree.root(20))
    with pytest.raises(LogInconsistent, match="later root") as info:
        check_consistency(p, tree.root(5), other.root(20))
    assert info.value.code == "record.inconsistent"
