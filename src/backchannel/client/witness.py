"""Every device is a witness of its talks' record: it checks, cosigns and compares checkpoints.

On each :meth:`Witness.observe` the device fetches the host's latest checkpoint (a C2SP signed
note under the host's log key, pinned on first use) and the entries it has not seen, and checks
them with :mod:`backchannel.record.audit` — the same checks an offline verifier makes: never
smaller than the head it holds (**rollback**), the same root at the same size and a valid RFC
9162 consistency proof when it grew (else the host **rewrote** history), the entries hashing to
the signed root, the host's times never going back. It holds every entry, so an event it can
open is proven in the record by its place among them.

Devices also post their latest checkpoint, **cosigned** (C2SP tlog-cosignature) with their
identity key, inside the talks; each compares the checkpoints it receives with its own
(:meth:`compare`): two host-signed trees that cannot both be true mean the host shows different
histories to different devices, a **split view**. Every failure is an :class:`Alarm`, stored with
its evidence, never silenced. What the device itself finds in the entries (an event withheld, a
state that differs from a peer's) is raised as an alarm here too (:meth:`alarm`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import nacl.signing

from backchannel.crypto.signed import Identity, b64
from backchannel.errors import BackchannelError, LogKeyChanged, RecordError
from backchannel.record import audit
from backchannel.record.checkpoint import COSIGNATURE_V1, Checkpoint, Note, NoteKey, cosign
from backchannel.record.entry import Entry
from backchannel.record.merkle import ConsistencyProof, InclusionProof
from backchannel.record.tree import MerkleTree


class RecordSource(Protocol):
    """Where a witness reads the record from: the host (``HostClient``)."""

    def log_checkpoint(self, talks_id: str) -> dict[str, Any]: ...

    def log_entries(self, talks_id: str, start: int = 0, end: int | None = None) -> list[bytes]: ...

    def log_consistency(self, talks_id: str, first: int, second: int) -> ConsistencyProof: ...


@dataclass(frozen=True, slots=True)
class Alarm:
    """Evidence that the host (or a device) misbehaved: a stable code, a sentence, the proof."""

    code: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The alarm as ``record status --json`` prints it and the profile stores it."""
        return {"code": self.code, "message": self.message, "evidence": self.evidence}


def witness_name(device_id: str) -> str:
    """The cosigner name a device signs checkpoints under."""
    return f"backchannel-witness/{device_id}"


def witness_key(device_id: str, identity: bytes) -> NoteKey:
    """The verifier key of a device's cosignatures (its owner's identity key)."""
    return NoteKey(witness_name(device_id), identity, COSIGNATURE_V1)


class Witness:
    """One device's watch over one talks' record."""

    def __init__(self, talks_host_id: str) -> None:
        self.talks_host_id = talks_host_id
        self.vkey: str | None = None  # the host's log key for these talks, pinned on first use
        self.note: str | None = None  # the latest checkpoint checked, as the host signed it
        self.head: Checkpoint | None = None
        self.alarms: list[Alarm] = []
        self.cosigned_notes: dict[str, str] = {}  # device → its latest cosignature that checked
        self.posted_size = 0
        self.tree = MerkleTree()
        self.leaves: list[bytes] = []
        self.last_time_ms = 0

    @property
    def size(self) -> int:
        """The size of the latest checkpoint checked."""
        return 0 if self.head is None else self.head.size

    @property
    def root(self) -> bytes | None:
        """The root of the latest checkpoint checked."""
        return None if self.head is None else self.head.root

    def inclusion(self, index: int) -> InclusionProof:
        """The inclusion proof of entry ``index`` in the latest checkpoint, from held entries."""
        return self.tree.inclusion_proof(index, self.size)

    @property
    def log_key(self) -> NoteKey | None:
        """The pinned log key."""
        return None if self.vkey is None else NoteKey.from_vkey(self.vkey)

    # --- checking the host's log ------------------------------------------------------------

    def observe(self, source: RecordSource) -> list[Entry]:
        """Check the host's latest checkpoint and the entries up to it; the entries new to this
        witness (empty when an alarm stops the round: nothing served can be trusted then)."""
        try:
            return self._advance(source)
        except RecordError as exc:
            self.alarm(exc.code, exc.message, served=self.note or "")
            return []

    def _advance(self, source: RecordSource) -> list[Entry]:
        data = source.log_checkpoint(self.talks_host_id)
        vkey, note = str(data["vkey"]), str(data["checkpoint"])
        if self.vkey is not None and vkey != self.vkey:
            raise LogKeyChanged(f"the host's log key changed to {vkey}")
        head = audit.open_head(note, NoteKey.from_vkey(vkey))
        grew = 0 < self.size < head.size
        proof = source.log_consistency(self.talks_host_id, self.size, head.size) if grew else None
        audit.check_extends(self.head, head, proof)
        leaves: list[bytes] = []
        while self.tree.size + len(leaves) < head.size:
            page = source.log_entries(self.talks_host_id, self.tree.size + len(leaves), head.size)
            if not page:
                break
            leaves.extend(page)
        self.tree, parsed = audit.check_entries(self.tree, head, leaves, self.last_time_ms)
        self.leaves.extend(leaves)
        if parsed:
            self.last_time_ms = parsed[-1].logged_at_ms
        self.vkey, self.note, self.head = vkey, note, head
        return parsed

    # --- cosigning and comparing ------------------------------------------------------------

    def cosigned(self, device_id: str, identity: Identity, now_s: int) -> str | None:
        """The latest checkpoint with this device's cosignature (at ``now_s``), to post."""
        if self.note is None or self.head is None:
            return None
        signature = cosign(
            self.head, witness_name(device_id), nacl.signing.SigningKey(identity.seed), now_s
        )
        return Note.parse(self.note).with_signatures(signature).encode()

    def compare(
        self, source: RecordSource, device: str, identity: bytes, note: str
    ) -> Checkpoint | None:
        """Check a checkpoint ``device`` posted against this record; its head if it agrees
        (None after an alarm, or before this device has checked any head)."""
        key = self.log_key
        if key is None:
            return None
        cosigner = witness_key(device, identity)
        try:
            theirs = audit.check_peer(note, cosigner, key, self.tree)
            if theirs.size > self.tree.size:
                proof = source.log_consistency(self.talks_host_id, self.tree.size, theirs.size)
                audit.check_peer(note, cosigner, key, self.tree, proof)
        except BackchannelError as exc:
            code = exc.code if isinstance(exc, RecordError) else "record.split_view"
            self.alarm(code, exc.message, held=self.note or "", theirs=note, device=device)
            return None
        self.cosigned_notes[device] = note
        return theirs

    def alarm(self, code: str, message: str, **evidence: Any) -> None:
        """Keep an alarm, with its evidence."""
        self.alarms.append(Alarm(code, message, evidence))

    def to_json(self) -> dict[str, Any]:
        """What this device has checked, as ``record status --json`` and the web app show it:
        the latest checkpoint, the last one posted, every alarm."""
        return {
            "tree_size": self.size,
            "root": None if self.root is None else b64(self.root),
            "checkpoint": self.note,
            "posted_size": self.posted_size,
            "alarms": [a.to_json() for a in self.alarms],
        }

    # --- persistence ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """What the profile stores (entries are fetched again and checked again)."""
        return {
            "vkey": self.vkey,
            "note": self.note,
            "alarms": [a.to_json() for a in self.alarms],
            "cosigned_notes": self.cosigned_notes,
            "posted_size": self.posted_size,
        }

    @classmethod
    def restore(cls, talks_host_id: str, state: dict[str, Any]) -> Witness:
        """A witness from :meth:`snapshot`; the head it held is checked against the next one."""
        witness = cls(talks_host_id)
        witness.vkey, witness.note = state["vkey"], state["note"]
        if witness.vkey is not None and witness.note is not None:
            witness.head = audit.open_head(witness.note, NoteKey.from_vkey(witness.vkey))
        witness.alarms = [Alarm(a["code"], a["message"], a["evidence"]) for a in state["alarms"]]
        witness.cosigned_notes = dict(state["cosigned_notes"])
        witness.posted_size = int(state["posted_size"])
        return witness
