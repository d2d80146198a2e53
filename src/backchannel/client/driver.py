"""The one thin I/O driver of a device: encrypts what participants send, talks to the host.

A :class:`Driver` belongs to one device (its :class:`HostClient` and Olm :class:`Sessions`) and
serves every talks that device is in. It does what :class:`Participant` may not: seal each
device's items with Olm (claiming one-time keys when a session must start), send them with the
act's record entry, long-poll the device's queue and open what arrives, and fetch the record for
the witness. Everything it decides comes from the participants.

A **round** (:meth:`sync`) is: read the record (each talks' witness checks the head and the new
entries) → take every delivery waiting → make it durable (``save``) → acknowledge it → apply, in
record order, what each device holds up to the checked head → compare peers' checkpoints →
answer what the joining protocol asks. The record is read *before* the queue: the host writes a
delivery in the same transaction as its entry, so every delivery of an entry in the head is in
the queue by then, and an entry tagged for this device that it does not hold was withheld.
Direct match rounds go to the :class:`Inbox`, not to the participant: they are no act, and wait
for a session to take them (:mod:`.direct_session`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from backchannel.client import wire
from backchannel.client.direct_session import Inbox
from backchannel.client.host import Delivery, HostClient
from backchannel.client.participant import Participant
from backchannel.client.wire import Outgoing
from backchannel.crypto import Context, Recipient, Sessions
from backchannel.engine import events as ev
from backchannel.errors import (
    BackchannelError,
    DecryptionFailed,
    HostUnreachable,
    IntroductionRejected,
)

#: A device posts its cosigned checkpoint whenever the record grew this much since its last.
POST_EVERY = 10


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Driver:
    """One device's I/O for all its talks."""

    def __init__(
        self,
        host: HostClient,
        sessions: Sessions,
        *,
        clock: Callable[[], datetime] = _now,
        save: Callable[[], None] = lambda: None,
        inbox: Inbox | None = None,
    ) -> None:
        self.host = host
        self.sessions = sessions
        self.clock = clock
        self.save = save
        self.cursor = 0
        #: Deliveries for talks this device does not know (acknowledged and counted, never read).
        self.stray = 0
        #: Direct match rounds received, held until a session takes them (client/direct_session).
        self.inbox = inbox or Inbox()

    @property
    def device_id(self) -> str:
        """This device's host id."""
        return self.host.device.device_id

    # --- sending -------------------------------------------------------------------------------

    def send(self, participant: Participant, out: Outgoing) -> list[str]:
        """Seal each device's items to it and send them in one request; the devices.

        A recorded act the host refuses is forgotten by the participant before the error rises;
        one that did not reach the host stays in its outbox, to send again (:meth:`resume`).
        """
        try:
            ciphertexts: dict[str, bytes] = {}
            context = Context(participant.talks_host_id, "talks", self.device_id, "event")
            for device_id, items in out.payloads.items():
                peer = participant.directory.peers[device_id]
                key = (
                    None
                    if self.sessions.has_session(device_id)
                    else self.host.claim_one_time_key(device_id)
                )
                recipient = Recipient(device_id, peer.curve25519, key)
                ciphertexts.update(self.sessions.seal(wire.encode(items), context, [recipient]))
            if ciphertexts or out.entry is not None:
                client_id = out.client_id or secrets.token_hex(16)
                self.host.send(participant.talks_host_id, client_id, ciphertexts, out.entry)
        except HostUnreachable:
            raise
        except BackchannelError:
            participant.refused(out)
            raise
        participant.sent(out)
        return sorted(ciphertexts)

    def resume(self, participants: Mapping[str, Participant]) -> None:
        """Send again what each participant sent without the host's answer (the host records a
        repeated id once)."""
        for participant in participants.values():
            for out in list(participant.outbox.values()):
                self.send(participant, out)

    def act(self, participant: Participant, event: ev.Event) -> list[str]:
        """Check ``event`` on the participant and send it; the host devices it went to."""
        return self.send(participant, participant.act(event))

    # --- receiving -----------------------------------------------------------------------------

    def sync(
        self,
        participants: Mapping[str, Participant],
        *,
        timeout: int = 0,
        limit: int = 100,
        rounds: int = 3,
    ) -> dict[str, list[ev.Event]]:
        """A round for every talks (host id → participant), again (up to ``rounds``) while the
        joining protocol made acts; the events newly applied from others, by talks host id."""
        self.resume(participants)
        # Read the record, then the queue; again while the queue held something, so that what
        # arrived is checked against a head read after it (an event whose entry is not there
        # is missing from the record).
        for _ in range(3):
            for participant in participants.values():
                participant.begin_round()
                participant.take_entries(participant.witness.observe(self.host))
            if not self._drain(participants, timeout, limit):
                break
            timeout = 0
        applied: dict[str, list[ev.Event]] = {}
        made = 0
        for host_id, participant in participants.items():
            found = participant.advance()
            if found:
                applied[host_id] = found
            participant.compare_peers(self.host)
            made += self._follow_up(participant)
        if made and rounds > 1:
            # Acts the joining protocol made are placed by the record: read it once more.
            for host_id, found in self.sync(participants, rounds=rounds - 1).items():
                applied.setdefault(host_id, []).extend(found)
        return applied

    def _drain(self, participants: Mapping[str, Participant], timeout: int, limit: int) -> int:
        """Take every delivery waiting (long-polling up to ``timeout`` s for the first); how
        many there were."""
        taken = 0
        while True:
            deliveries, cursor = self.host.sync(since=self.cursor, timeout=timeout, limit=limit)
            if not deliveries:
                return taken
            for delivery in deliveries:
                addressed = participants.get(delivery.talks_id)
                if addressed is None:
                    self.stray += 1
                    continue
                self._open(addressed, delivery)
            self.cursor = cursor
            # Durable first, acknowledged second: a crash in between only reads again.
            self.save()
            self.host.ack([d.position for d in deliveries])
            taken += len(deliveries)
            timeout = 0

    def _open(self, participant: Participant, delivery: Delivery) -> None:
        sender = delivery.sender_device
        try:
            peer = participant.directory.peers.get(sender)
            if peer is not None:
                key = peer.curve25519
            elif participant.hears_from(sender):
                # A stranger may be a newcomer introducing itself: its key comes from the host,
                # and only a valid introduction (checked next) lets anything it sends count.
                key = self.host.device_certificate(sender).curve25519
            else:
                raise IntroductionRejected(f"a delivery from unknown device {sender}")
            context = Context(delivery.talks_id, "talks", sender, "event")
            items = wire.decode(self.sessions.open(delivery.ciphertext, key, context))
        except (BackchannelError, DecryptionFailed) as exc:
            participant.drop(sender, exc)
            return
        rest = self.inbox.take(participant, sender, items, self.clock().timestamp())
        if rest or not items:
            participant.receive(sender, rest)

    def _follow_up(self, participant: Participant) -> int:
        """Send what the joining protocol asks and make the acts it asks (placed next round);
        post a cosigned checkpoint when the record grew enough. How many acts were made."""
        payloads, due = participant.follow_ups(self.clock())
        for out in payloads:
            self.send(participant, out)
        for event in due:
            self.act(participant, event)
        witness = participant.witness
        if witness.size >= witness.posted_size + POST_EVERY:
            self.post_checkpoint(participant)
        return len(due)

    def post_checkpoint(self, participant: Participant) -> bool:
        """Post this device's cosigned checkpoint (and state digest) to every live device."""
        item = participant.checkpoint_item(int(time.time()))
        live = participant.directory.live()
        if item is None or not live:
            return False
        self.send(participant, Outgoing({p.host_device: [item] for p in live}))
        participant.witness.posted_size = participant.witness.size
        return True


def sessions_used(sessions: Sessions) -> int:
    """How many Olm sessions a device holds (one-time keys are used as sessions start)."""
    return sum(len(held) for held in sessions.peers.values())
