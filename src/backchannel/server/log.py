"""The host's record service: each talks' Merkle log, its signed checkpoints and its proofs.

The host appends a leaf for every send that carries one (in the send's own transaction, see
:meth:`~backchannel.store.base.Store.append_event`), signs checkpoints with its Ed25519 log key
in the C2SP signed-note format (:mod:`backchannel.record.checkpoint`), and serves inclusion and
consistency proofs. Proofs are computed by :mod:`backchannel.record.merkle` over a store-backed
:class:`~backchannel.record.merkle.NodeReader`: the addresses a proof reads do not depend on the
hashes, so a first pass with placeholder hashes collects them and one query fetches them all.

Each talks is its own log, with origin (and note key name) ``backchannel/<host-name>/<talks_id>``;
one host key signs them all, so a verifier builds ``NoteKey(origin, public_key)`` from
``GET /v1/log/key``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.signing

from backchannel.errors import LogRangeInvalid, StoreConflict, StoreError
from backchannel.record.checkpoint import Checkpoint, Note, NoteKey, sign_checkpoint
from backchannel.record.merkle import (
    ConsistencyProof,
    InclusionProof,
    consistency_proof,
    inclusion_proof,
    root_at,
)
from backchannel.store import Store

_log = logging.getLogger("backchannel.server")

#: The most entries one ``log/entries`` page returns.
MAX_ENTRIES_PAGE = 1000

_PLACEHOLDER = bytes(32)


class _Recorder:
    """A NodeReader that answers placeholders and remembers which nodes were asked for."""

    def __init__(self) -> None:
        self.asked: set[tuple[int, int]] = set()

    def node(self, level: int, index: int) -> bytes:
        self.asked.add((level, index))
        return _PLACEHOLDER


class _Fetched:
    """A NodeReader over nodes fetched in one query."""

    def __init__(self, nodes: dict[tuple[int, int], bytes]) -> None:
        self._nodes = nodes

    def node(self, level: int, index: int) -> bytes:
        try:
            return self._nodes[(level, index)]
        except KeyError as exc:
            raise StoreError("The log is missing a node.", detail={"node": (level, index)}) from exc


def load_log_key(path: Path) -> nacl.signing.SigningKey:
    """Read the host's Ed25519 log key (a 32-byte seed), creating it (mode 0600) if absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fd = -1
    if fd < 0:
        seed = path.read_bytes()
        if len(seed) != 32:
            raise StoreError("The log key file is not a 32-byte seed.", detail={"path": str(path)})
        return nacl.signing.SigningKey(seed)
    key = nacl.signing.SigningKey.generate()
    with os.fdopen(fd, "wb") as out:
        out.write(bytes(key))
        out.flush()
        os.fsync(out.fileno())
    return key


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A talks' latest checkpoint: its origin, size, root and the signed note's text."""

    origin: str
    size: int
    root: bytes
    note: str


class RecordService:
    """Checkpoints and proofs of every talks' log, over the store (blocking; run in a thread)."""

    def __init__(self, store: Store, signing_key: nacl.signing.SigningKey, host_name: str) -> None:
        self._store = store
        self._key = signing_key
        self.host_name = host_name

    @property
    def public_key(self) -> bytes:
        """The host's Ed25519 log public key."""
        return bytes(self._key.verify_key)

    def origin(self, talks_id: str) -> str:
        """The log origin (and note key name) of a talks."""
        return f"backchannel/{self.host_name}/{talks_id}"

    def note_key(self, talks_id: str) -> NoteKey:
        """The verifier key of the talks' checkpoints."""
        return NoteKey(self.origin(talks_id), self.public_key)

    def _reader(self, talks_id: str, probe: Callable[[_Recorder], object]) -> _Fetched:
        recorder = _Recorder()
        probe(recorder)
        return _Fetched(self._store.log_nodes(talks_id, recorder.asked))

    def root(self, talks_id: str, size: int) -> bytes:
        """The root of the talks' log at ``size`` leaves (O(log n) reads)."""
        reader = self._reader(talks_id, lambda r: root_at(r, size))
        return root_at(reader, size)

    def checkpoint(self, talks_id: str) -> SignedHead:
        """The latest signed checkpoint, signing a new one if the log grew since the last."""
        size = self._store.log_size(talks_id)
        latest = self._store.latest_checkpoint(talks_id)
        if latest is None or latest[0] < size:
            root = self.root(talks_id, size)
            origin = self.origin(talks_id)
            note = sign_checkpoint(Checkpoint(origin, size, root), origin, self._key).encode()
            # A concurrent request may store one for this size first; both are valid.
            with contextlib.suppress(StoreConflict):
                self._store.save_checkpoint(talks_id, size, note)
            latest = self._store.latest_checkpoint(talks_id)
            assert latest is not None
        size, note = latest
        head = Checkpoint.from_body(Note.parse(note).text)
        return SignedHead(head.origin, size, head.root, note)

    def refresh(self, talks_id: str) -> None:
        """Sign a checkpoint after an append; a failure is logged, the next read retries."""
        try:
            self.checkpoint(talks_id)
        except StoreError as exc:
            _log.warning("signing a checkpoint failed: %s", exc.code)

    def _check_size(self, talks_id: str, size: int) -> int:
        tree = self._store.log_size(talks_id)
        if size > tree:
            raise LogRangeInvalid(
                f"The log has {tree} leaves, fewer than the {size} asked for.",
                detail={"size": size, "tree_size": tree},
            )
        return tree

    def inclusion(self, talks_id: str, index: int, size: int | None) -> InclusionProof:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves (default: all)."""
        tree = self._check_size(talks_id, size or 0)
        size = tree if size is None else size
        if not 0 <= index < size:
            raise LogRangeInvalid(
                f"Leaf {index} is not in a tree of {size} leaves.",
                detail={"index": index, "size": size},
            )
        reader = self._reader(talks_id, lambda r: inclusion_proof(r, index, size))
        return inclusion_proof(reader, index, size)

    def consistency(self, talks_id: str, first: int, second: int | None) -> ConsistencyProof:
        """The consistency proof from ``first`` leaves to ``second`` (default: all)."""
        tree = self._check_size(talks_id, second or 0)
        second = tree if second is None else second
        if not 0 <= first <= second:
            raise LogRangeInvalid(
                f"No consistency proof from {first} to {second} leaves.",
                detail={"from": first, "to": second},
            )
        reader = self._reader(talks_id, lambda r: consistency_proof(r, first, second))
        return consistency_proof(reader, first, second)

    def entries(self, talks_id: str, start: int, end: int | None) -> tuple[int, list[bytes]]:
        """Leaf entries ``[start, end)`` (at most :data:`MAX_ENTRIES_PAGE`) and the tree size."""
        tree = self._store.log_size(talks_id)
        end = min(tree, start + MAX_ENTRIES_PAGE) if end is None else end
        if not 0 <= start <= end or end > tree:
            raise LogRangeInvalid(
                f"Entries [{start}, {end}) are not in a log of {tree} leaves.",
                detail={"start": start, "end": end, "tree_size": tree},
            )
        end = min(end, start + MAX_ENTRIES_PAGE)
        return tree, self._store.log_entries(talks_id, start, end)
