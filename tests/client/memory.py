"""Devices driven in memory, device to device: the protocol without a network (h11's way).

:class:`MemoryHost` is a host reduced to what participants rely on: it stamps and appends each
recorded entry to one Merkle log, signs checkpoints, serves entries and proofs
(a :class:`RecordSource`), and queues each device's items. :func:`cast` builds participants that
all know each other, as a scenario's cast does; :meth:`MemoryHost.round` is what the driver does
for one device, minus the encryption: read the record, take the queue, apply, answer.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from nacl.signing import SigningKey

from backchannel.client.directory import Directory, Introduction
from backchannel.client.participant import Participant
from backchannel.client.wire import Item, Outgoing
from backchannel.crypto import Device, Identity, TagKey
from backchannel.engine import events as ev
from backchannel.record.checkpoint import Checkpoint, NoteKey, sign_checkpoint
from backchannel.record.entry import stamp
from backchannel.record.merkle import ConsistencyProof
from backchannel.record.tree import MerkleTree

TALKS = "memory-talks"
START = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


class MemoryHost:
    """One talks' record and every device's queue, in memory."""

    def __init__(self) -> None:
        self.key = SigningKey.generate()
        self.origin = f"backchannel/memory/{TALKS}"
        self.leaves: list[bytes] = []
        self.queues: dict[str, list[tuple[str, list[Item]]]] = defaultdict(list)
        self.now = START

    # --- a RecordSource ------------------------------------------------------------------------

    def log_checkpoint(self, talks_id: str) -> dict[str, Any]:
        tree = MerkleTree(self.leaves)
        head = Checkpoint(self.origin, tree.size, tree.root())
        note = sign_checkpoint(head, self.origin, self.key).encode()
        return {"checkpoint": note, "vkey": NoteKey(self.origin, bytes(self.key.verify_key)).vkey()}

    def log_entries(self, talks_id: str, start: int = 0, end: int | None = None) -> list[bytes]:
        return self.leaves[start:end]

    def log_consistency(self, talks_id: str, first: int, second: int) -> ConsistencyProof:
        return MerkleTree(self.leaves).consistency_proof(first, second)

    # --- the rest of a host --------------------------------------------------------------------

    def send(self, sender: str, out: Outgoing) -> None:
        """Record ``out``'s entry (stamped with the host's time) and queue its items."""
        if out.entry is not None:
            self.leaves.append(stamp(out.entry, int(self.now.timestamp() * 1000)))
        for device, items in out.payloads.items():
            self.queues[device].append((sender, list(items)))

    def act(self, participant: Participant, event: ev.Event) -> None:
        """``participant`` checks and sends ``event``."""
        out = participant.act(event)
        self.send(participant.device_id, out)
        participant.sent(out)

    def round(self, participant: Participant) -> list[ev.Event]:
        """One device's round, as the driver makes it: the record, the queue, apply, answer."""
        participant.begin_round()
        participant.take_entries(participant.witness.observe(self))
        waiting, self.queues[participant.device_id] = self.queues[participant.device_id], []
        for sender, items in waiting:
            participant.receive(sender, items)
        applied = participant.advance()
        participant.compare_peers(self)
        payloads, due = participant.follow_ups(self.now)
        for out in payloads:
            self.send(participant.device_id, out)
        for event in due:
            self.act(participant, event)
        return applied

    def settle(self, participants: Iterable[Participant], rounds: int = 3) -> None:
        """Every device takes its rounds."""
        everyone = list(participants)
        for _ in range(rounds):
            for participant in everyone:
                self.round(participant)

    def tick(self, minutes: float = 1) -> datetime:
        """Move the host's clock on; the new time."""
        self.now += timedelta(minutes=minutes)
        return self.now


def cast(members: dict[str, str], parties: dict[str, bool]) -> dict[str, Participant]:
    """One device per member (member → party), all introduced to each other: by member."""
    devices: dict[str, tuple[Device, Identity, TagKey]] = {
        member: (Device(f"dev-{member}"), Identity.generate(), TagKey.generate())
        for member in members
    }
    intros = {
        member: Introduction.make(
            identity,
            device.certify(identity),
            TALKS,
            members[member],
            member,
            root=True,
            tag_key=tags.public,
        )
        for member, (device, identity, tags) in devices.items()
    }
    found: dict[str, Participant] = {}
    for member, (device, identity, tags) in devices.items():
        directory = Directory()
        for other, intro in intros.items():
            if other != member:
                directory.admit(intro.verify(TALKS))
        participant = Participant(
            TALKS,
            "memory",
            identity=identity,
            tag_key=tags,
            device_id=device.device_id,
            me=member,
            engine_device=device.device_id,
            introduction=intros[member],
            directory=directory,
            random=os.urandom,
        )
        participant.known_introductions = {
            i.certificate.device_id: i.to_json() for i in intros.values()
        }
        found[member] = participant
    return found
