"""Offline verification of a record bundle of 10^5 events, and pymerkle on its share of it.

The bundle is built the way a device exports one: two parties, a member with a root-issued
mandate token in a plenary, then ``N`` events — nine messages in ten, and one signed contact
request in ten — each with its salt, its entry stamped with its time, its inclusion proof and a
host-signed checkpoint over all ``N`` leaves. Verification checks the record, opens every
commitment, checks every proof and act signature and the grant's token, and replays every event
through the engine at its place (each contact request's mandate judged there, and its chain
shown from the token).

pymerkle has no bundle; the peer row is the part of the work it can do — verifying the same
``N`` inclusion proofs against the same root — measured in the same run, beside Backchannel doing
only that part too, for a like-for-like ratio.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import nacl.signing
import nacl.utils
from pymerkle import InmemoryTree
from pymerkle import verify_inclusion as pm_verify_inclusion
from rich.console import Console
from rich.progress import track
from rich.table import Table

from backchannel import authority
from backchannel.client import acts, bundle
from backchannel.client.directory import Introduction
from backchannel.crypto import Device, Identity, TagKey
from backchannel.crypto.signed import b64, sign_act, unb64
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, Level, Role, RoomKind
from backchannel.record import MerkleTree
from backchannel.record.checkpoint import Checkpoint, NoteKey, sign_checkpoint
from backchannel.record.entry import stamp
from backchannel.record.leaf import SALT_SIZE, commit
from backchannel.record.merkle import InclusionProof, check_inclusion, inclusion_proof, leaf_hash

HOST_ID = "t-bench"
ACT_EVERY = 10


def _events(n: int) -> list[ev.Event]:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    setup: list[ev.Event] = [
        ev.AddParty(at=t0, actor="p", party="p", role=Role.PARTY),
        ev.AddParty(at=t0, actor="q", party="q", role=Role.PARTY),
        ev.AddMember(at=t0, actor="p", member="m", party="p", first_device="d", fingerprint="f"),
        ev.Grant(at=t0, actor="p", grant="g", member="m", level=Level.PROPOSE),
        ev.CreateRoom(at=t0, actor="p", room="room", kind=RoomKind.PLENARY),
        ev.Join(at=t0, actor="m", room="room", member="m"),
    ]
    steps: list[ev.Event] = []
    for i in range(n - len(setup)):
        at = t0 + timedelta(seconds=i + 1)
        if i % ACT_EVERY == 0:
            steps.append(ev.RequestContact(at=at, actor="m", request=f"r{i}", to_party="q"))
        else:
            steps.append(
                ev.Send(
                    at=at,
                    actor="m",
                    message=f"x{i}",
                    room="room",
                    text=f"message {i}",
                    label=Label.CARRY_GIST,
                )
            )
    return setup + steps


def build(n: int) -> dict[str, Any]:
    """A verifiable bundle of ``n`` events (signatures, proofs, one mandate token)."""
    root_p, root_q, member = Identity.generate(), Identity.generate(), Identity.generate()
    intros = []
    for identity, party, name, is_root in (
        (root_p, "p", None, True),
        (root_q, "q", None, True),
        (member, "p", "m", False),
    ):
        device = Device(f"dev-{party}-{name}")
        intro = Introduction.make(
            identity,
            device.certify(identity),
            HOST_ID,
            party,
            name,
            is_root,
            tag_key=TagKey.generate().public,
            engine_device="d" if name else None,
        )
        intros.append(intro.to_json())
    signer = {"p": root_p, "q": root_q, "m": member}
    token = authority.issue(
        root_p,
        talks=HOST_ID,
        party="p",
        grant="g",
        member="m",
        level=Level.PROPOSE,
        holder=member.public_key,
    )
    events = []
    leaves: list[bytes] = []
    for index, event in enumerate(track(_events(n), description="bundle: building…")):
        encoded = codec.encode(event)
        salt = nacl.utils.random(SALT_SIZE)
        leaves.append(stamp(commit(salt, encoded), int(event.at.timestamp() * 1000)))
        signature = None
        if acts.signed(event):
            signature = b64(sign_act(signer[event.actor], HOST_ID, encoded).signature)
        events.append(
            {
                "index": index,
                "salt": b64(salt),
                "event": encoded,
                "signature": signature,
                "words": None,
                "mandate": token if isinstance(event, ev.Grant) else None,
            }
        )
    tree = MerkleTree(leaves)
    for entry in events:
        entry["proof"] = [b64(h) for h in inclusion_proof(tree, entry["index"], tree.size).path]
    log_key = nacl.signing.SigningKey.generate()
    origin = "bench"
    note = sign_checkpoint(Checkpoint(origin, tree.size, tree.root()), origin, log_key)
    return {
        "format": bundle.FORMAT,
        "talks_host_id": HOST_ID,
        "with_content": True,
        "log": {
            "vkey": NoteKey.for_signing_key(origin, log_key).vkey(),
            "checkpoint": note.encode(),
            "entries": [b64(e) for e in leaves],
        },
        "cosigned": {},
        "introductions": sorted(intros, key=lambda i: str(i["device_id"])),
        "events": events,
    }


def _pymerkle_seconds(data: dict[str, Any]) -> float:
    """pymerkle verifying an inclusion proof for every entry of the same log."""
    entries = [unb64(e) for e in data["log"]["entries"]]
    tree = InmemoryTree()
    for entry in entries:
        tree.append_entry(entry)
    root = tree.get_state()
    proofs = [tree.prove_inclusion(i + 1) for i in range(len(entries))]
    hashes = [leaf_hash(entry) for entry in entries]
    start = time.perf_counter()
    for proof, leaf in zip(proofs, hashes, strict=True):
        pm_verify_inclusion(leaf, root, proof)
    return time.perf_counter() - start


def _proofs_seconds(data: dict[str, Any]) -> float:
    """Backchannel verifying the bundle's own inclusion proofs, and nothing else."""
    entries = [unb64(e) for e in data["log"]["entries"]]
    root = MerkleTree(entries).root()
    proofs = [
        InclusionProof(int(e["index"]), len(entries), tuple(unb64(h) for h in e["proof"]))
        for e in data["events"]
    ]
    hashes = [leaf_hash(entries[proof.leaf_index]) for proof in proofs]
    start = time.perf_counter()
    for proof, leaf in zip(proofs, hashes, strict=True):
        check_inclusion(proof, leaf, root)
    return time.perf_counter() - start


def main() -> None:
    """Build, verify, and print one table."""
    console = Console()
    n = int(os.environ.get("BENCH_BUNDLE_EVENTS", 100_000))
    data = build(n)
    raw = bundle.dumps(data)
    console.print(f"[dim]bundle: {n:,} events, {len(raw) / 2**20:.1f} MiB; verifying…[/dim]")
    start = time.perf_counter()
    verified = bundle.loads(raw)
    ours = time.perf_counter() - start
    acts = sum(1 for a in verified.acts if a.mandate is not None)
    proofs = _proofs_seconds(data)
    peer = _pymerkle_seconds(data)
    table = Table(title=f"bundle: offline verification of {n:,} events")
    for column in ("what", "events", "mandate checks", "seconds", "events/s"):
        table.add_column(column, justify="right" if column != "what" else "left")
    table.add_row(
        "Backchannel record verify (everything)",
        f"{len(verified.acts):,}",
        f"{acts:,}",
        f"{ours:.2f}",
        f"{len(verified.acts) / ours:,.0f}",
    )
    table.add_row(
        "Backchannel: the inclusion proofs only",
        f"{n:,}",
        "0",
        f"{proofs:.2f}",
        f"{n / proofs:,.0f}",
    )
    table.add_row(
        "pymerkle: the inclusion proofs only", f"{n:,}", "0", f"{peer:.2f}", f"{n / peer:,.0f}"
    )
    console.print(table)
    console.print(
        f"The proofs alone: Backchannel {peer / proofs:.1f}× as fast as pymerkle. Everything "
        f"(every proof, opening, signature and mandate): {ours / peer:.1f}× pymerkle's proofs-only "
        "time."
    )
