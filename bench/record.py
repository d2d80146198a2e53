"""Benchmark of the record's Merkle tree against pymerkle, measured in the same run.

Both trees get the same leaves (32-byte commitments, as the record stores) and are configured
the same way: pymerkle's defaults (SHA-256, leaf prefix 0x00, node prefix 0x01) are RFC 9162
hashing, so both must report the same roots, which is checked before any number is printed.
pymerkle's ``InmemoryTree`` is its in-memory backend; its ``append_entries`` is a loop over
``append_entry``, so both its rows run the same code. Sizes 10^4 and 10^6 run by default; 10^7
runs with ``BENCH_FULL=1`` (several minutes and a few GB of memory, mostly pymerkle's nodes).
"""

from __future__ import annotations

import gc
import hashlib
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymerkle import InmemoryTree
from pymerkle import verify_consistency as pm_verify_consistency
from pymerkle import verify_inclusion as pm_verify_inclusion
from rich.console import Console
from rich.table import Table

from backchannel.record import MerkleTree, leaf_hash, verify_consistency, verify_inclusion

SAMPLES = 2000
SEED = 9162


@dataclass(frozen=True, slots=True)
class Row:
    """One measured operation: throughput of ours and of pymerkle, in operations per second."""

    size: int
    operation: str
    ours: float
    peer: float


def _rate(count: int, run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]


def _append_each(tree: MerkleTree, leaves: list[bytes]) -> None:
    for leaf in leaves:
        tree.append(leaf)


def _pm_append_each(tree: InmemoryTree, leaves: list[bytes]) -> None:
    for leaf in leaves:
        tree.append_entry(leaf)


def measure(n: int) -> tuple[list[Row], bool]:
    """Measure every operation at ``n`` leaves; also return whether all roots agreed."""
    leaves = _leaves(n)
    rows: list[Row] = []

    ours = MerkleTree()
    ours_single = _rate(n, lambda: _append_each(ours, leaves))
    ours_batch = _rate(n, lambda: MerkleTree().extend(leaves))
    peer_batch = _rate(n, lambda: InmemoryTree().append_entries(leaves))
    gc.collect()
    peer = InmemoryTree()
    peer_single = _rate(n, lambda: _pm_append_each(peer, leaves))
    rows.append(Row(n, "append, one at a time", ours_single, peer_single))
    rows.append(Row(n, "append, batched", ours_batch, peer_batch))

    rnd = random.Random(SEED)
    earlier = [rnd.randrange(1, n) for _ in range(SAMPLES)]
    indexes = [rnd.randrange(n) for _ in range(SAMPLES)]
    agree = ours.root() == peer.get_root() and all(
        ours.root(m) == peer.get_root(m) for m in earlier[:50]
    )

    rows.append(
        Row(
            n,
            "root at an earlier size",
            _rate(SAMPLES, lambda: [ours.root(m) for m in earlier]),
            _rate(SAMPLES, lambda: [peer.get_root(m) for m in earlier]),
        )
    )

    root = ours.root()
    proofs = []
    peer_proofs = []
    rows.append(
        Row(
            n,
            "inclusion proof, generate",
            _rate(SAMPLES, lambda: proofs.extend(ours.inclusion_proof(i) for i in indexes)),
            _rate(
                SAMPLES, lambda: peer_proofs.extend(peer.prove_inclusion(i + 1) for i in indexes)
            ),
        )
    )
    hashes = [leaf_hash(leaves[i]) for i in indexes]
    pairs = list(zip(proofs, hashes, strict=True))
    peer_pairs = list(zip(peer_proofs, hashes, strict=True))
    ok: list[bool] = []

    def verify_ours() -> None:
        ok.extend(verify_inclusion(p, h, root) for p, h in pairs)

    def verify_peer() -> None:
        for p, h in peer_pairs:
            pm_verify_inclusion(h, root, p)

    rows.append(
        Row(n, "inclusion proof, verify", _rate(SAMPLES, verify_ours), _rate(SAMPLES, verify_peer))
    )

    old_roots = [ours.root(m) for m in earlier]
    cproofs = []
    peer_cproofs = []
    rows.append(
        Row(
            n,
            "consistency proof, generate",
            _rate(SAMPLES, lambda: cproofs.extend(ours.consistency_proof(m) for m in earlier)),
            _rate(SAMPLES, lambda: peer_cproofs.extend(peer.prove_consistency(m) for m in earlier)),
        )
    )
    ctriples = list(zip(cproofs, old_roots, peer_cproofs, strict=True))

    def cverify_ours() -> None:
        ok.extend(verify_consistency(p, old, root) for p, old, _ in ctriples)

    def cverify_peer() -> None:
        for _, old, p in ctriples:
            pm_verify_consistency(old, root, p)

    rows.append(
        Row(
            n,
            "consistency proof, verify",
            _rate(SAMPLES, cverify_ours),
            _rate(SAMPLES, cverify_peer),
        )
    )
    if not all(ok):
        raise SystemExit("a backchannel proof failed to verify")
    return rows, agree


def main() -> None:
    """Run the benchmark and print one table of throughputs and ratios."""
    console = Console()
    sizes = [10**4, 10**6]
    if os.environ.get("BENCH_FULL") == "1":
        sizes.append(10**7)
    rows: list[Row] = []
    agreed = True
    for n in sizes:
        console.print(f"[dim]record: measuring {n:,} leaves…[/dim]")
        measured, agree = measure(n)
        rows.extend(measured)
        agreed = agreed and agree
        gc.collect()

    table = Table(title="record: Merkle log vs pymerkle 7 (InmemoryTree), operations per second")
    table.add_column("leaves", justify="right")
    table.add_column("operation")
    table.add_column("backchannel", justify="right")
    table.add_column("pymerkle", justify="right")
    table.add_column("ratio", justify="right")
    for row in rows:
        table.add_row(
            f"{row.size:,}",
            row.operation,
            f"{row.ours:,.0f}",
            f"{row.peer:,.0f}",
            f"{row.ours / row.peer:.1f}×",
        )
    console.print(table)
    verdict = "identical" if agreed else "DIFFERENT"
    console.print(
        f"Roots (current size and 50 earlier sizes per run): {verdict}. "
        "pymerkle with its defaults (sha256, 0x00/0x01 prefixes) hashes as RFC 9162."
    )
    if not agreed:
        raise SystemExit("roots differ between backchannel and pymerkle")
