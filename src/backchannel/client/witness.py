"""Every device is a witness of its talks' record: it checks, cosigns and compares checkpoints.

On each :meth:`Witness.observe` the device fetches the host's latest checkpoint (a C2SP signed
note under the host's log key, pinned on first use) and checks it against the last one it holds:
never smaller (**rollback**), the same root at the same size, and a valid RFC 9162 consistency
proof when it grew (else the host **rewrote** history). It recomputes the root from the entries
it fetched, then for every event it can open (it holds the salt) it finds the commitment in the
log (else the host **dropped** it), checks an inclusion proof against the checkpoint, and checks
that events it received sit in the log in the order they were delivered (else the host
**reordered** them).

Devices also post their latest checkpoint, **cosigned** (C2SP tlog-cosignature) with their
identity key, inside the talks; each compares the checkpoints it receives with its own: two
host-signed trees that cannot both be true — the same size with different roots, or no valid
consistency proof between them — mean the host shows different histories to different devices,
a **split view**. Every failure is an :class:`Alarm`, stored with its evidence, never silenced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import nacl.signing

from backchannel.client.host import HostClient
from backchannel.crypto.signed import Identity, b64, unb64
from backchannel.errors import BackchannelError
from backchannel.record.checkpoint import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteKey,
    check_cosignature,
    cosign,
    open_checkpoint,
)
from backchannel.record.entry import COMMITMENT_SIZE
from backchannel.record.leaf import commit
from backchannel.record.merkle import check_consistency, check_inclusion, leaf_hash
from backchannel.record.tree import MerkleTree


@dataclass(frozen=True, slots=True)
class Alarm:
    """Evidence that the host misbehaved: a stable code, a sentence, and what proves it."""

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
        self.size = 0
        self.root: bytes | None = None
        self.alarms: list[Alarm] = []
        self.verified: set[bytes] = set()  # commitments proven included
        self.last_received = -1  # log index of the last received event proven included
        self.peer_notes: dict[str, str] = {}  # device → latest cosigned checkpoint it posted
        self.cosigned_notes: dict[str, str] = {}  # device → its latest cosignature that checked
        self.posted_size = 0
        self._entries: list[bytes] = []
        self._index: dict[bytes, int] = {}

    @property
    def entries(self) -> list[bytes]:
        """The log's leaf commitments up to the latest checkpoint checked."""
        return self._entries[: self.size]

    def index_of(self, leaf: bytes) -> int | None:
        """Where ``leaf`` sits in the log, if it is there."""
        return self._index.get(leaf)

    # --- checking the host's log ------------------------------------------------------------

    def observe(
        self,
        host: HostClient,
        openings: list[tuple[bytes, Any]],
        received: set[int],
        identities: dict[str, bytes],
    ) -> list[Alarm]:
        """Check the latest checkpoint, the openings (``received``: which of them this device
        received rather than sent), and the checkpoints peers posted; the new alarms."""
        before = len(self.alarms)
        try:
            self._advance(host)
            self._check_openings(host, openings, received)
            self._compare_peers(host, identities)
        except _Stop:
            pass
        return self.alarms[before:]

    def _advance(self, host: HostClient) -> None:
        data = host.log_checkpoint(self.talks_host_id)
        if self.vkey is not None and data["vkey"] != self.vkey:
            self._alarm("record.key_changed", "the host's log key changed", vkey=data["vkey"])
        checkpoint = self._open(str(data["checkpoint"]), str(data["vkey"]))
        self.vkey = str(data["vkey"])
        if self.root is not None:
            self._consistent(host, self.note or "", str(data["checkpoint"]), checkpoint)
        self._fetch(host, checkpoint)
        self.note, self.size, self.root = str(data["checkpoint"]), checkpoint.size, checkpoint.root

    def _open(self, note: str, vkey: str) -> Checkpoint:
        try:
            return open_checkpoint(note, NoteKey.from_vkey(vkey))
        except BackchannelError as exc:
            self._alarm("record.checkpoint_invalid", f"a checkpoint does not verify: {exc}")
            raise AssertionError from exc  # unreachable: _alarm raises

    def _consistent(self, host: HostClient, old: str, new: str, checkpoint: Checkpoint) -> None:
        assert self.root is not None
        evidence = {"held": old, "served": new}
        if checkpoint.size < self.size:
            self._alarm(
                "record.rollback",
                f"the host rolled the record back from {self.size} to {checkpoint.size} entries",
                **evidence,
            )
        if checkpoint.size == self.size:
            if checkpoint.root != self.root:
                self._alarm("record.inconsistent", "two roots for one size", **evidence)
            return
        try:
            proof = host.log_consistency(self.talks_host_id, self.size, checkpoint.size)
            check_consistency(proof, self.root, checkpoint.root)
        except BackchannelError as exc:
            self._alarm(
                "record.inconsistent",
                f"the record of {checkpoint.size} entries does not extend the one of "
                f"{self.size} this device holds: {exc}",
                **evidence,
            )

    def _fetch(self, host: HostClient, checkpoint: Checkpoint) -> None:
        if len(self._entries) > checkpoint.size:
            self._entries, self._index = [], {}
        while len(self._entries) < checkpoint.size:
            page = host.log_entries(self.talks_host_id, len(self._entries), checkpoint.size)
            if not page:
                break
            for entry in page:
                self._index.setdefault(entry[:COMMITMENT_SIZE], len(self._entries))
                self._entries.append(entry)
        tree = MerkleTree()
        tree.extend(self._entries[: checkpoint.size])
        if tree.size != checkpoint.size or tree.root() != checkpoint.root:
            self._alarm(
                "record.inconsistent",
                "the entries the host serves do not hash to its own checkpoint",
                served=self.note or "",
            )

    def _check_openings(
        self, host: HostClient, openings: list[tuple[bytes, Any]], received: set[int]
    ) -> None:
        assert self.root is not None or not openings
        for position, (salt, event) in enumerate(openings):
            leaf = commit(salt, event)
            if leaf in self.verified:
                continue
            index = self._index.get(leaf)
            if index is None:
                self._alarm(
                    "record.entry_missing",
                    "an event this device sent or received is not in the record",
                    commitment=b64(leaf),
                )
                continue
            try:
                proof = host.log_inclusion(self.talks_host_id, index, self.size)
                check_inclusion(proof, leaf_hash(self._entries[index]), self.root or b"")
            except BackchannelError as exc:
                self._alarm("record.proof_invalid", f"an inclusion proof fails: {exc}")
                continue
            if position in received:
                if index < self.last_received:
                    self._alarm(
                        "record.reordered",
                        "the record orders two events otherwise than they were delivered",
                        commitment=b64(leaf),
                        index=index,
                        after=self.last_received,
                    )
                    continue
                self.last_received = index
            self.verified.add(leaf)

    # --- cosigning and comparing ------------------------------------------------------------

    def cosigned(self, device_id: str, identity: Identity) -> str | None:
        """The latest checkpoint with this device's cosignature, to post in the talks."""
        if self.note is None or self.vkey is None:
            return None
        checkpoint = open_checkpoint(self.note, NoteKey.from_vkey(self.vkey))
        signature = cosign(
            checkpoint,
            witness_name(device_id),
            nacl.signing.SigningKey(identity.seed),
            int(time.time()),
        )
        return Note.parse(self.note).with_signatures(signature).encode()

    def _compare_peers(self, host: HostClient, identities: dict[str, bytes]) -> None:
        for device, note in sorted(self.peer_notes.items()):
            identity = identities.get(device)
            if identity is None or self.vkey is None or self.root is None:
                continue
            try:
                check_cosignature(note, witness_key(device, identity))
                theirs = open_checkpoint(note, NoteKey.from_vkey(self.vkey))
            except BackchannelError as exc:
                message = f"{device} posted a checkpoint that does not verify: {exc}"
                self.alarms.append(Alarm("record.checkpoint_invalid", message, {"theirs": note}))
                continue
            if theirs.size == self.size and theirs.root != self.root:
                self._split(device, note)
                continue
            elif theirs.size != self.size:
                small, large = sorted([(theirs.size, theirs.root), (self.size, self.root)])
                try:
                    proof = host.log_consistency(self.talks_host_id, small[0], large[0])
                    if small[0] > 0:
                        check_consistency(proof, small[1], large[1])
                except BackchannelError:
                    self._split(device, note)
                    continue
            self.cosigned_notes[device] = note
        self.peer_notes.clear()

    def _split(self, device: str, note: str) -> None:
        self.alarms.append(
            Alarm(
                "record.split_view",
                f"the host shows {device} a history this device's record contradicts",
                {"held": self.note or "", "theirs": note, "device": device},
            )
        )

    def _alarm(self, code: str, message: str, **evidence: Any) -> None:
        self.alarms.append(Alarm(code, message, evidence))
        if code in _FATAL:
            raise _Stop

    def to_json(self) -> dict[str, Any]:
        """What this device has checked, as ``record status --json`` and the web app show it:
        the latest checkpoint, the events proven in it, the last one posted, every alarm."""
        return {
            "tree_size": self.size,
            "root": None if self.root is None else b64(self.root),
            "checkpoint": self.note,
            "verified_events": len(self.verified),
            "posted_size": self.posted_size,
            "alarms": [a.to_json() for a in self.alarms],
        }

    # --- persistence ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """What the profile stores (entries are fetched again and re-checked)."""
        return {
            "vkey": self.vkey,
            "note": self.note,
            "size": self.size,
            "root": None if self.root is None else b64(self.root),
            "alarms": [a.to_json() for a in self.alarms],
            "verified": sorted(b64(v) for v in self.verified),
            "last_received": self.last_received,
            "peer_notes": self.peer_notes,
            "cosigned_notes": self.cosigned_notes,
            "posted_size": self.posted_size,
        }

    @classmethod
    def restore(cls, talks_host_id: str, state: dict[str, Any]) -> Witness:
        """A witness from :meth:`snapshot`."""
        witness = cls(talks_host_id)
        witness.vkey, witness.note, witness.size = state["vkey"], state["note"], state["size"]
        witness.root = None if state["root"] is None else unb64(state["root"])
        witness.alarms = [Alarm(a["code"], a["message"], a["evidence"]) for a in state["alarms"]]
        witness.verified = {unb64(v) for v in state["verified"]}
        witness.last_received = int(state["last_received"])
        witness.peer_notes = dict(state["peer_notes"])
        witness.cosigned_notes = dict(state.get("cosigned_notes", {}))
        witness.posted_size = int(state["posted_size"])
        return witness


class _Stop(Exception):
    """Stop checking this round: the checkpoint itself cannot be trusted."""


#: Alarms after which nothing else served this round can be checked meaningfully.
_FATAL = {
    "record.checkpoint_invalid",
    "record.inconsistent",
    "record.key_changed",
    "record.rollback",
}
