"""The checks a witness makes of a talks' record, shared by devices and offline verification.

A device watching its talks (``client/witness.py``) and anyone verifying an exported bundle
(``client/bundle.py``) ask the same questions of what a host served, and answer them here, with
values in and values (or a :class:`~backchannel.errors.RecordError` naming what failed) out:

- :func:`open_head` — the checkpoint verifies under the log key (``record.checkpoint_invalid``);
- :func:`check_extends` — a new head never rolls back (``record.rollback``), and extends the one
  held: the same root at the same size, a valid RFC 9162 consistency proof when it grew
  (``record.inconsistent``);
- :func:`check_entries` — the entries served hash to the head's root (``record.inconsistent``),
  each splits into commitment, tags and time (``record.entry_malformed``), and the host's times
  never go back along the record (``record.clock``);
- :func:`check_peer` — a head another device cosigned is its own and agrees with this record:
  the same root at any size both hold, or a consistency proof to a larger one
  (``record.split_view``).

Nothing here fetches anything: the caller passes in what the host served.
"""

from __future__ import annotations

from collections.abc import Sequence

from backchannel.errors import (
    BackchannelError,
    CheckpointInvalid,
    LogInconsistent,
    LogRolledBack,
    RecordClockBackwards,
    SplitView,
)
from backchannel.record.checkpoint import Checkpoint, NoteKey, check_cosignature, open_checkpoint
from backchannel.record.entry import Entry
from backchannel.record.merkle import ConsistencyProof, check_consistency
from backchannel.record.tree import MerkleTree

__all__ = ["check_entries", "check_extends", "check_peer", "open_head"]


def open_head(note: str, log_key: NoteKey) -> Checkpoint:
    """The checkpoint ``note`` states, once it verifies under ``log_key``."""
    try:
        return open_checkpoint(note, log_key)
    except BackchannelError as exc:
        raise CheckpointInvalid(f"a checkpoint does not verify: {exc}") from exc


def check_extends(held: Checkpoint | None, new: Checkpoint, proof: ConsistencyProof | None) -> None:
    """``new`` may follow ``held``: not smaller, the same at the same size, else proven to
    extend it (``proof`` from ``held.size`` to ``new.size``; not needed when neither grew, nor
    from the empty record, which every record extends)."""
    if held is None or (held.size == 0 and new.size >= 0):
        return
    if new.size < held.size:
        raise LogRolledBack(
            f"the host rolled the record back from {held.size} to {new.size} entries"
        )
    if new.size == held.size:
        if new.root != held.root:
            raise LogInconsistent("two roots for one size")
        return
    if proof is None:
        raise LogInconsistent(f"no proof that {new.size} entries extend {held.size}")
    try:
        check_consistency(proof, held.root, new.root)
    except BackchannelError as exc:
        raise LogInconsistent(
            f"the record of {new.size} entries does not extend the one of {held.size} this "
            f"device holds: {exc}"
        ) from exc


def check_entries(
    tree: MerkleTree, head: Checkpoint, entries: Sequence[bytes], last_time_ms: int = 0
) -> tuple[MerkleTree, list[Entry]]:
    """``tree`` with ``entries`` (the leaves after its own) appended, once the result hashes to
    ``head``, and the entries parsed: their times never before ``last_time_ms`` or each other.
    ``tree`` itself is left as it was."""
    parsed = [Entry.parse(leaf) for leaf in entries]
    for entry in parsed:
        if entry.logged_at_ms < last_time_ms:
            raise RecordClockBackwards(
                f"the host's time goes back along the record, to {entry.logged_at_ms} ms after "
                f"{last_time_ms} ms"
            )
        last_time_ms = entry.logged_at_ms
    grown = tree.copy()
    grown.extend(entries)
    if grown.size != head.size or grown.root() != head.root:
        raise LogInconsistent("the entries the host serves do not hash to its own checkpoint")
    return grown, parsed


def check_peer(
    note: str,
    cosigner: NoteKey,
    log_key: NoteKey,
    tree: MerkleTree,
    proof: ConsistencyProof | None = None,
) -> Checkpoint:
    """The head a peer cosigned (``note``, under ``cosigner``), once it agrees with ``tree``:
    the same root at its size if this record is as large, else ``proof`` from this record's
    size to the peer's (None: it cannot be compared yet, and :class:`SplitView` is not raised)."""
    try:
        check_cosignature(note, cosigner)
        theirs = open_checkpoint(note, log_key)
    except BackchannelError as exc:
        raise CheckpointInvalid(
            f"{cosigner.name} posted a checkpoint that does not verify: {exc}"
        ) from exc
    if theirs.size <= tree.size:
        if tree.root(theirs.size) != theirs.root:
            raise SplitView(f"{cosigner.name} cosigned a history this record contradicts")
        return theirs
    if proof is not None and tree.size > 0:
        try:
            check_consistency(proof, tree.root(), theirs.root)
        except BackchannelError as exc:
            raise SplitView(
                f"{cosigner.name} cosigned a history this record contradicts: {exc}"
            ) from exc
    return theirs
