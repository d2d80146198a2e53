"""One device in a talks: checks, signs, encrypts and sends; receives, verifies and applies.

The device is the trust boundary. Before sending, it applies the event to **its own** view of the
talks with the engine — an event the rules refuse never leaves the device. It then encrypts each
recipient's form of the event (:func:`engine.audience.audience`) to that recipient's devices only,
in one request to the host. **Formal acts** (membership, mandates, devices, rooms, contact
requests, acceptances, signatures) are also signed with the actor's identity key; messages are not
(deniable). On sync it decrypts each delivery, checks the sender's device belongs to the event's
actor, checks formal acts' signatures, and applies the event to its view — or **drops and
reports** it when any check or rule fails, whatever the sender's client claimed.

A device seen for the first time first receives the sender's **backlog**: the earlier formal acts
its party may know (:func:`party_receives`), each still signed by its original actor, so the
newcomer's engine can check the new event. Duplicates (the same act from two senders) are skipped.

Encryption binds the host-visible coordinates (talks, sending device); room and message ids travel
inside the encrypted event, and Olm refuses a replayed ciphertext.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import nacl.utils

from backchannel import engine
from backchannel.client.host import HostClient
from backchannel.crypto import Context, Identity, Recipient, Sessions, canonical_json
from backchannel.crypto.signed import SignedAct, b64, sign_act, unb64, verify_act
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.audience import audience, party_receives
from backchannel.errors import BackchannelError, RuleViolation
from backchannel.record.leaf import SALT_SIZE, commit

#: Events signed with the actor's identity key: attributable on purpose.
FORMAL = (
    ev.AddParty,
    ev.AddMember,
    ev.CreateRoom,
    ev.Join,
    ev.Leave,
    ev.Grant,
    ev.Revoke,
    ev.AddDevice,
    ev.RevokeDevice,
    ev.RequestContact,
    ev.Accept,
    ev.Sign,
)


#: One entry of a payload: the encoded event, and its signature, salt or forwarded flag.
Item = dict[str, Any]

#: Events every device of the talks receives, whoever its view already knows.
TALKS_WIDE = (ev.AddParty, ev.AddMember, ev.Grant, ev.Revoke, ev.AddDevice, ev.RevokeDevice)


@dataclass(frozen=True, slots=True)
class Peer:
    """A device of the talks as this device knows it: host id, keys, and who holds it."""

    host_device: str
    curve25519: bytes
    identity: bytes
    party: str
    member: str | None  # None: the party's root authority
    engine_device: str | None


@dataclass
class Directory:
    """Who is who, verified out of band: host device ids ↔ members, devices and identities."""

    peers: dict[str, Peer] = field(default_factory=dict)

    def by_engine_device(self, device: str) -> Peer | None:
        """The peer holding an engine device id."""
        return next((p for p in self.peers.values() if p.engine_device == device), None)

    def root_of(self, party: str) -> Peer | None:
        """The device of a party's root authority."""
        return next((p for p in self.peers.values() if p.member is None and p.party == party), None)

    def identity_of(self, actor: str) -> bytes:
        """The identity key of a member, or of a party's root authority."""
        for peer in self.peers.values():
            if peer.member == actor or (peer.member is None and peer.party == actor):
                return peer.identity
        raise RuleViolation(f"no known identity acts as {actor}")


@dataclass(frozen=True, slots=True)
class Dropped:
    """A delivery this device refused, and why (a rule code or a check's code)."""

    sender_device: str
    code: str
    message: str


class Participant:
    """A member's device, or a party root's device, in one talks."""

    def __init__(
        self,
        host: HostClient,
        identity: Identity,
        directory: Directory,
        talks_host_id: str,
        talks_id: str,
        *,
        me: str,
        engine_device: str | None,
    ) -> None:
        self.host = host
        self.identity = identity
        self.directory = directory
        self.talks_host_id = talks_host_id
        self.me = me
        self.engine_device = engine_device
        self.view = engine.Talks(id=talks_id)
        self.sessions = Sessions(host.device)
        self.cursor = 0
        self.dropped: list[Dropped] = []
        self.history: list[Item] = []  # accepted formal acts, as they travel
        self._seen: set[bytes] = set()
        self._introduced: set[str] = set()
        #: (salt, encoded event) of every record leaf this device can open: its witness material.
        self.openings: list[tuple[bytes, Mapping[str, object]]] = []

    # --- sending ---------------------------------------------------------------------------

    def act(self, event: ev.Event) -> list[str]:
        """Check ``event`` on this device, then send it; the host devices it was sent to.

        Raises the :class:`RuleViolation` the device's own engine finds: nothing is sent then.
        """
        after = engine.apply(self.view, event)
        forms = self._recipients(after, event)
        self.view = after
        # The record gets a commitment to the event; the salt that opens it travels encrypted.
        salt = nacl.utils.random(SALT_SIZE)
        item = {**self._item(event), "salt": b64(salt)}
        if isinstance(event, FORMAL):
            self._remember(item)
        if not forms:
            return []
        ciphertexts: dict[str, bytes] = {}
        context = Context(self.talks_host_id, "talks", self.host.device.device_id, "event")
        for device_id, form in forms.items():
            peer = self.directory.peers[device_id]
            items = [] if device_id in self._introduced else self._backlog_for(after, peer.party)
            self._introduced.add(device_id)
            # A projected form (a Carry) gets no salt: its leaf commits to the full relay, whose
            # source stays in the record for those who saw it.
            items.append(item if form is event else self._item(form))
            key = (
                None
                if self.sessions.has_session(device_id)
                else (self.host.claim_one_time_key(device_id))
            )
            payload = canonical_json({"items": items})
            ciphertexts.update(
                self.sessions.seal(payload, context, [Recipient(device_id, peer.curve25519, key)])
            )
        self.openings.append((salt, codec.encode(event)))
        leaf = commit(salt, codec.encode(event))
        self.host.send(self.talks_host_id, secrets.token_hex(16), ciphertexts, leaf=leaf)
        return sorted(ciphertexts)

    def _backlog_for(self, talks: engine.Talks, party: str) -> list[Item]:
        return [
            {**entry, "forwarded": True}
            for entry in self.history
            if party_receives(talks, party, codec.decode(entry["event"]))
        ]

    def _remember(self, item: Item) -> None:
        key = canonical_json(item["event"])
        if key not in self._seen:
            self._seen.add(key)
            self.history.append({"event": item["event"], "act": item.get("act")})

    def _recipients(self, after: engine.Talks, event: ev.Event) -> dict[str, ev.Event]:
        """Host device id → the form of ``event`` that device receives (never this device)."""
        found: dict[str, ev.Event] = {}
        if isinstance(event, TALKS_WIDE):
            # Everyone must know every party, member, mandate and device to check every actor;
            # a device whose view does not list them yet (the talks are being set up) still must.
            found = dict.fromkeys(self.directory.peers, event)
            found.pop(self.host.device.device_id, None)
            return found
        for member, form in audience(self.view, after, event).items():
            for device in after.devices.values():
                if device.member == member and device.revoked_at is None:
                    peer = self.directory.by_engine_device(device.id)
                    if peer is not None:
                        found[peer.host_device] = form
        for party in after.parties:
            root = self.directory.root_of(party)
            if root is not None and party_receives(after, party, event):
                found[root.host_device] = event
        found.pop(self.host.device.device_id, None)
        return found

    def _item(self, form: ev.Event) -> Item:
        encoded = codec.encode(form)
        item: Item = {"event": encoded}
        if isinstance(form, FORMAL):
            item["act"] = b64(sign_act(self.identity, encoded).signature)
        return item

    # --- receiving -------------------------------------------------------------------------

    def sync(self) -> list[ev.Event]:
        """Fetch, decrypt, verify and apply everything addressed to this device, in order."""
        applied: list[ev.Event] = []
        while True:
            deliveries, cursor = self.host.sync(since=self.cursor, limit=100)
            if not deliveries:
                return applied
            for delivery in deliveries:
                try:
                    items = self._open(
                        delivery.sender_device, delivery.talks_id, delivery.ciphertext
                    )
                except (BackchannelError, ValueError, KeyError, TypeError) as exc:
                    self._drop(delivery.sender_device, exc)
                    continue
                for item in items:
                    try:
                        event = self._check(delivery.sender_device, item)
                        if event is None:
                            continue
                        self.view = engine.apply(self.view, event)
                    except (BackchannelError, ValueError, KeyError, TypeError) as exc:
                        self._drop(delivery.sender_device, exc)
                        continue
                    if isinstance(event, FORMAL):
                        self._remember(item)
                    if "salt" in item:
                        self.openings.append((unb64(str(item["salt"])), item["event"]))
                    applied.append(event)
            self.host.ack([d.position for d in deliveries])
            self.cursor = cursor

    def _drop(self, sender_device: str, exc: Exception) -> None:
        code = exc.code if isinstance(exc, BackchannelError) else "event.malformed"
        self.dropped.append(Dropped(sender_device, code, str(exc)))

    def _open(self, sender_device: str, talks_host_id: str, ciphertext: bytes) -> list[Any]:
        peer = self.directory.peers[sender_device]
        context = Context(talks_host_id, "talks", sender_device, "event")
        items = json.loads(self.sessions.open(ciphertext, peer.curve25519, context))["items"]
        if not isinstance(items, list):
            raise ValueError("a payload holds a list of items")
        return items

    def _check(self, sender_device: str, item: dict[str, Any]) -> ev.Event | None:
        """The item's event if it checks out; None if already applied (a duplicate backlog)."""
        event = codec.decode(item["event"])
        if canonical_json(item["event"]) in self._seen:
            return None
        peer = self.directory.peers[sender_device]
        if item.get("forwarded"):
            # Only formal acts are forwarded, and they prove their actor by signature.
            if not isinstance(event, FORMAL):
                raise RuleViolation("only formal acts can be forwarded")
        else:
            acting_as = peer.party if peer.member is None else peer.member
            if event.actor != acting_as or (
                peer.member is not None and event.device not in (None, peer.engine_device)
            ):
                raise RuleViolation(f"device {sender_device} may not act as {event.actor}")
        if isinstance(event, FORMAL):
            identity = self.directory.identity_of(event.actor)
            signature = unb64(str(item.get("act", "")))
            verify_act(SignedAct(item["event"], identity, signature), identity)
        return event
