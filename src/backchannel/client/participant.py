"""One device in a talks: checks, signs, encrypts and sends; receives, verifies and applies.

The device is the trust boundary. Before sending, it applies the event to **its own** view of the
talks with the engine — an event the rules refuse never leaves the device. It then encrypts each
recipient's form of the event (:func:`engine.audience.audience`) to that recipient's devices only,
in one request to the host. **Formal acts** (membership, mandates, devices, rooms, contact
requests, acceptances, signatures, confirmations, the negotiating text's drafts and consents)
are also signed with the actor's identity key; messages are not (deniable). A grant, and a root's
confirmation, also carry a mandate token (:mod:`backchannel.client.mandates`). On sync it
decrypts each delivery, checks the sender's device belongs to the event's actor, checks formal
acts' signatures and tokens, and applies the event to its view — or **drops and reports** it
when any check or rule fails, whatever the sender's client claimed.

A device seen for the first time first receives the sender's **backlog**: the earlier formal acts
its party may know (:func:`party_receives`), each still signed by its original actor, so the
newcomer's engine can check the new event, and with its record salt, so the newcomer can open it
in the record and export it with the mandates its own acts rest on. Duplicates (the same act from
two senders) are skipped.

Encryption binds the host-visible coordinates (talks, sending device); room and message ids travel
inside the encrypted event, and Olm refuses a replayed ciphertext.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.utils

from backchannel import engine
from backchannel.client import mandates
from backchannel.client.directory import Directory, Introduction
from backchannel.client.host import Delivery, HostClient
from backchannel.client.witness import Alarm, Witness
from backchannel.crypto import Context, Identity, Recipient, Sessions, canonical_json
from backchannel.crypto.signed import SignedAct, b64, sign_act, unb64, verify_act
from backchannel.engine import codec, quotation
from backchannel.engine import events as ev
from backchannel.engine.audience import audience, party_receives
from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import (
    BackchannelError,
    IntroductionRejected,
    RelayUnverified,
    RuleViolation,
    TextQuotesConfidential,
)
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
    ev.Confirm,
    ev.DraftArticle,
    ev.AgreeArticle,
    ev.InitialArticle,
    ev.SignArticle,
)


#: Words that may be signed: a message or offer its author lets the mediator carry verbatim is
#: signed (and only then: other words stay deniable), so every reader of the carry can check them.
SIGNED_WORDS = (ev.Send, ev.Propose)


def signed(event: ev.Event) -> bool:
    """Whether ``event`` travels with its actor's signature."""
    if isinstance(event, SIGNED_WORDS):
        return event.label is Label.CARRY_VERBATIM
    return isinstance(event, FORMAL)


#: One entry of a payload: the encoded event, and its signature, salt or forwarded flag.
Item = dict[str, Any]

#: Events every device of the talks receives, whoever its view already knows.
TALKS_WIDE = (ev.AddParty, ev.AddMember, ev.Grant, ev.Revoke, ev.AddDevice, ev.RevokeDevice)


@dataclass(frozen=True, slots=True)
class Dropped:
    """A delivery this device refused, and why (a rule code or a check's code)."""

    sender_device: str
    code: str
    message: str


class Participant:
    """A member's device, or a party root's device, in one talks.

    ``me`` is the actor this device acts as by default (its member, or its party for a root-only
    device); ``introduction`` is how it introduces itself to devices it welcomes or joins;
    ``convener`` is the host id of the device that issues the talks' invites (itself, for the
    device that created the talks). ``sessions`` may be shared by all talks of one device.
    """

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
        sessions: Sessions | None = None,
        introduction: Introduction | None = None,
        convener: str | None = None,
    ) -> None:
        self.host = host
        self.identity = identity
        self.directory = directory
        self.talks_host_id = talks_host_id
        self.me = me
        self.engine_device = engine_device
        self.view = engine.Talks(id=talks_id)
        self.sessions = sessions or Sessions(host.device)
        self.introduction = introduction
        self.convener = convener
        self.cursor = 0
        self.dropped: list[Dropped] = []
        self.applied: list[Item] = []  # every event applied to the view, in order
        self.history: list[Item] = []  # accepted formal acts, as they travel
        self._seen: set[bytes] = set()
        self._introduced: set[str] = set()
        #: (salt, encoded event) of every record leaf this device can open: its witness material.
        self.openings: list[tuple[bytes, Mapping[str, object]]] = []
        #: Convener only: invite secret (base64) → the party it admits; spent when used.
        self.invites: dict[str, str] = {}
        self.pending_welcome: set[str] = set()
        self._to_greet: set[str] = set()
        #: Host device ids whose identity was compared out of band (fingerprint or SAS).
        self.verified: set[str] = set()
        #: SAS keys other devices sent this device, by sender: read by a running verification.
        self.sas_inbox: dict[str, bytes] = {}
        #: Every introduction this device holds (its own too), by host device id: what it
        #: forwards to newcomers when it convenes.
        self.known_introductions: dict[str, dict[str, Any]] = {}
        #: The device's watch over the talks' record, and which openings it received.
        self.witness = Witness(talks_host_id)
        self.received_openings: set[int] = set()
        if introduction is not None:
            self.known_introductions[self.device_id] = introduction.to_json()

    @property
    def device_id(self) -> str:
        """This device's host id."""
        return self.host.device.device_id

    # --- sending ---------------------------------------------------------------------------

    def act(self, event: ev.Event) -> list[str]:
        """Check ``event`` on this device, then send it; the host devices it was sent to.

        Raises the :class:`RuleViolation` the device's own engine finds: nothing is sent then.
        A draft of the negotiating text is also refused when it quotes words this device holds
        that may not leave their room: only this device can check that, so the engine cannot.
        """
        if isinstance(event, ev.DraftArticle):
            found = quotation.confidential_quote(self.view, event.text)
            if found is not None:
                message, run = found
                raise TextQuotesConfidential(
                    f"the draft repeats message {message.id!r} ({message.label.value}), which "
                    f"every party would then read: “{run}”"
                )
        after = engine.apply(self.view, event)
        forms = self._recipients(after, event)
        mandate = self._token_for(event)
        self.view = after
        # The record gets a commitment to the event; the salt that opens it travels encrypted.
        salt = nacl.utils.random(SALT_SIZE)
        item = {**self._item(event), "salt": b64(salt)}
        if mandate is not None:
            item["mandate"] = mandate
        # An event nobody else may read yet (the convener alone at first) is still recorded.
        payloads: dict[str, list[Item]] = {}
        for device_id, form in forms.items():
            peer = self.directory.peers[device_id]
            items = [] if device_id in self._introduced else self._backlog_for(after, peer.party)
            self._introduced.add(device_id)
            # A projected form (a Carry) gets no salt: its leaf commits to the full relay, whose
            # source stays in the record for those who saw it.
            items.append(item if form is event else self._item(form))
            payloads[device_id] = items
        # Only now joins the backlog: a newcomer gets this event once, with its salt.
        self._applied(event, item)
        self.openings.append((salt, codec.encode(event)))
        return self.send_items(payloads, leaf=commit(salt, codec.encode(event)))

    def _token_for(self, event: ev.Event) -> str | None:
        """The token an act travels with: a grant's own, or the one a confirmation extends."""
        if isinstance(event, ev.Grant):
            return mandates.for_grant(self, event)
        if isinstance(event, ev.Confirm):
            return mandates.for_confirm(self, event)
        return None

    def send_items(
        self, payloads: Mapping[str, list[Item]], leaf: bytes | None = None
    ) -> list[str]:
        """Encrypt each device's items to it and send them all in one request; the devices."""
        ciphertexts: dict[str, bytes] = {}
        context = Context(self.talks_host_id, "talks", self.device_id, "event")
        for device_id, items in payloads.items():
            peer = self.directory.peers[device_id]
            key = (
                None
                if self.sessions.has_session(device_id)
                else self.host.claim_one_time_key(device_id)
            )
            payload = canonical_json({"items": items})
            ciphertexts.update(
                self.sessions.seal(payload, context, [Recipient(device_id, peer.curve25519, key)])
            )
        if ciphertexts or leaf is not None:
            self.host.send(self.talks_host_id, secrets.token_hex(16), ciphertexts, leaf=leaf)
        return sorted(ciphertexts)

    def _backlog_for(self, talks: engine.Talks, party: str) -> list[Item]:
        if party not in talks.parties:
            # A party this view does not know yet gets only what every device gets.
            return [
                {**entry, "forwarded": True}
                for entry in self.history
                if isinstance(codec.decode(entry["event"]), TALKS_WIDE)
            ]
        return [
            {**entry, "forwarded": True}
            for entry in self.history
            if party_receives(talks, party, codec.decode(entry["event"]))
        ]

    def _applied(self, event: ev.Event, item: Item) -> None:
        self.applied.append(item)
        if isinstance(event, FORMAL):
            key = canonical_json(item["event"])
            if key not in self._seen:
                self._seen.add(key)
                kept = {"event": item["event"], "act": item.get("act")}
                for name in ("mandate", "salt"):
                    if name in item:
                        kept[name] = item[name]
                self.history.append(kept)

    def _recipients(self, after: engine.Talks, event: ev.Event) -> dict[str, ev.Event]:
        """Host device id → the form of ``event`` that device receives (never this device)."""
        found: dict[str, ev.Event] = {}
        if isinstance(event, TALKS_WIDE):
            # Everyone must know every party, member, mandate and device to check every actor;
            # a device whose view does not list them yet (the talks are being set up) still must.
            found = dict.fromkeys(self.directory.peers, event)
            found.pop(self.device_id, None)
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
        found.pop(self.device_id, None)
        return found

    def _item(self, form: ev.Event) -> Item:
        encoded = codec.encode(form)
        item: Item = {"event": encoded}
        if signed(form):
            item["act"] = b64(sign_act(self.identity, encoded).signature)
        if isinstance(form, ev.Carry) and form.mode is RelayMode.VERBATIM:
            # The original words as their author signed them: the readers check them.
            item["original"] = self._original_of(str(form.source))
        return item

    def _original_of(self, message: str) -> Item:
        """The signed item of message ``message`` as this device received or sent it."""
        for kept in reversed(self.applied):
            event = codec.decode(kept["event"])
            if isinstance(event, SIGNED_WORDS) and event.message == message and "act" in kept:
                return {"event": kept["event"], "act": kept["act"]}
            if isinstance(event, ev.Carry) and event.message == message and "original" in kept:
                return dict(kept["original"])
        raise RelayUnverified(f"this device holds no signed original of {message}")

    # --- invites and introductions ---------------------------------------------------------

    def issue_invite(self, party: str) -> bytes:
        """A fresh invite secret admitting one device of ``party`` (convener only)."""
        secret = nacl.utils.random(16)
        self.invites[b64(secret)] = party
        return secret

    def introduce_to(self, device_id: str, invite_secret: bytes) -> None:
        """Send this device's introduction, with the invite's secret, to the convener."""
        if self.introduction is None:
            raise IntroductionRejected("this device has no introduction to send")
        item = {"intro": self.introduction.to_json(), "invite": b64(invite_secret)}
        self.send_items({device_id: [item]})

    def _introduce(self, sender: str, item: Item) -> None:
        introduction = Introduction.from_json(item["intro"])
        peer = introduction.verify(self.talks_host_id)
        if sender == self.convener:
            if self.directory.admit(peer) and peer.host_device != sender:
                self._to_greet.add(peer.host_device)
        elif peer.host_device == sender and self.convener == self.device_id:
            # A newcomer introduces itself to the convener, with the secret of an unspent invite.
            party = self.invites.get(str(item.get("invite", "")))
            if party is None:
                raise IntroductionRejected(f"{sender} introduced itself without a valid invite")
            if party != peer.party:
                raise IntroductionRejected(f"the invite admits {party}, not {peer.party}")
            self.directory.admit(peer)
            del self.invites[str(item["invite"])]
            self.pending_welcome.add(peer.host_device)
        else:
            raise IntroductionRejected(f"{sender} may not introduce other devices")
        self.known_introductions[peer.host_device] = item["intro"]

    def _welcome(self) -> None:
        """Tell each newcomer who is who and what happened; tell everyone about the newcomer."""
        for newcomer in sorted(self.pending_welcome):
            peer = self.directory.peers[newcomer]
            if peer.party not in self.view.parties:
                continue  # its party's declaration has not arrived yet
            intros = [i for d, i in self.known_introductions.items() if d != newcomer]
            payloads: dict[str, list[Item]] = {
                newcomer: [{"intro": i} for i in intros] + self._backlog_for(self.view, peer.party)
            }
            self._introduced.add(newcomer)
            theirs = [
                entry
                for entry in self._backlog_for(self.view, peer.party)
                if codec.decode(entry["event"]).actor in peer.actors()
            ]
            newcomer_intro = self.known_introductions[newcomer]
            for other in self.directory.peers.values():
                if other.host_device in (newcomer, self.device_id):
                    continue
                payloads[other.host_device] = [{"intro": newcomer_intro}, *theirs]
            self.send_items(payloads)
            self.pending_welcome.discard(newcomer)

    def _greet(self) -> None:
        """Send each device the convener just introduced this device's own earlier acts.

        Acts a device made before it knew a peer reached only the peers it knew then; the
        convener's welcome may have left before they arrived. Duplicates are skipped on receipt.
        """
        if not self._to_greet:
            return
        payloads: dict[str, list[Item]] = {}
        for device_id in sorted(self._to_greet):
            peer = self.directory.peers[device_id]
            payloads[device_id] = [
                entry
                for entry in self._backlog_for(self.view, peer.party)
                if codec.decode(entry["event"]).actor in self._actors()
            ]
            self._introduced.add(device_id)
        self._to_greet.clear()
        self.send_items({d: items for d, items in payloads.items() if items})

    def _actors(self) -> frozenset[str]:
        if self.introduction is None:
            return frozenset({self.me})
        intro = self.introduction
        return frozenset({intro.member} if intro.member else set()) | (
            {intro.party} if intro.root else set()
        )

    # --- receiving -------------------------------------------------------------------------

    def sync(self) -> list[ev.Event]:
        """Fetch, decrypt, verify and apply everything addressed to this device, in order."""
        applied: list[ev.Event] = []
        while True:
            deliveries, cursor = self.host.sync(since=self.cursor, limit=100)
            if not deliveries:
                return applied
            applied.extend(self.receive(deliveries))
            self.host.ack([d.position for d in deliveries])
            self.cursor = cursor

    def receive(self, deliveries: list[Delivery]) -> list[ev.Event]:
        """Decrypt, verify and apply a batch of this talks' deliveries; welcome newcomers."""
        applied: list[ev.Event] = []
        for delivery in deliveries:
            try:
                items = self._open(delivery.sender_device, delivery.talks_id, delivery.ciphertext)
            except (BackchannelError, ValueError, KeyError, TypeError) as exc:
                self._drop(delivery.sender_device, exc)
                continue
            for item in items:
                try:
                    event = self._take(delivery.sender_device, item)
                except (BackchannelError, ValueError, KeyError, TypeError) as exc:
                    self._drop(delivery.sender_device, exc)
                    continue
                if event is not None:
                    applied.append(event)
        self._welcome()
        self._greet()
        return applied

    def _take(self, sender: str, item: dict[str, Any]) -> ev.Event | None:
        if "intro" in item:
            self._introduce(sender, item)
            return None
        if "checkpoint" in item:
            self.witness.peer_notes[sender] = str(item["checkpoint"])
            return None
        if "sas" in item:
            self.sas_inbox[sender] = unb64(str(item["sas"]))
            return None
        event = self._check(sender, item)
        if event is None:
            return None
        self.view = engine.apply(self.view, event)
        self._applied(event, item)
        if "salt" in item:
            # A forwarded act is older than what was delivered before it: no delivery order.
            if not item.get("forwarded"):
                self.received_openings.add(len(self.openings))
            self.openings.append((unb64(str(item["salt"])), item["event"]))
        return event

    def _drop(self, sender_device: str, exc: Exception) -> None:
        code = exc.code if isinstance(exc, BackchannelError) else "event.malformed"
        self.dropped.append(Dropped(sender_device, code, str(exc)))

    def _open(self, sender_device: str, talks_host_id: str, ciphertext: bytes) -> list[Any]:
        peer = self.directory.peers.get(sender_device)
        if peer is not None:
            sender_key = peer.curve25519
        elif self.convener == self.device_id:
            # A stranger may be a newcomer introducing itself: its key comes from the host, and
            # only a valid introduction (checked next) lets anything it sends count.
            sender_key = self.host.device_certificate(sender_device).curve25519
        else:
            raise IntroductionRejected(f"a delivery from unknown device {sender_device}")
        context = Context(talks_host_id, "talks", sender_device, "event")
        items = json.loads(self.sessions.open(ciphertext, sender_key, context))["items"]
        if not isinstance(items, list):
            raise ValueError("a payload holds a list of items")
        if peer is None and (len(items) != 1 or "intro" not in items[0]):
            raise IntroductionRejected(f"unknown device {sender_device} did not introduce itself")
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
        elif event.actor not in peer.actors() or (
            event.actor == peer.member and event.device not in (None, peer.engine_device)
        ):
            raise RuleViolation(f"device {sender_device} may not act as {event.actor}")
        if signed(event):
            identity = self.identity_of(event.actor)
            signature = unb64(str(item.get("act", "")))
            verify_act(SignedAct(item["event"], identity, signature), identity)
        if isinstance(event, ev.Carry) and event.mode is RelayMode.VERBATIM:
            self._check_original(event, item.get("original"))
        if isinstance(event, ev.Grant):
            mandates.check_grant(self, event, item.get("mandate"))
        if isinstance(event, ev.Confirm):
            mandates.check_confirm(self, event, item.get("mandate"))
        return event

    def _check_original(self, carry: ev.Carry, original: Any) -> None:
        """A verbatim carry must bring its original, signed by its author, word for word."""
        if not isinstance(original, dict) or "event" not in original:
            raise RelayUnverified(f"verbatim carry {carry.message} lacks its signed original")
        source = codec.decode(original["event"])
        if not isinstance(source, SIGNED_WORDS) or (
            source.message,
            source.actor,
            source.text,
            source.label,
        ) != (carry.source, carry.original_author, carry.text, carry.label):
            raise RelayUnverified(f"verbatim carry {carry.message} differs from its original")
        identity = self.identity_of(source.actor)
        signature = unb64(str(original.get("act", "")))
        try:
            verify_act(SignedAct(original["event"], identity, signature), identity)
        except BackchannelError as exc:
            raise RelayUnverified(
                f"the original of {carry.message} is not signed by {source.actor}"
            ) from exc

    # --- mandates as tokens ------------------------------------------------------------------

    def identity_of(self, actor: str) -> bytes:
        """The identity key acting as ``actor`` (a member, or a party's root), this one's too."""
        own = self.introduction
        if actor == self.me or (
            own is not None and actor in (own.member, own.party if own.root else None)
        ):
            return self.identity.public_key
        return self.directory.identity_of(actor)

    def token_of(self, member: str) -> str | None:
        """The token of ``member``'s latest grant that is not revoked in this device's view."""
        return mandates.latest(self.applied, self.view, member)

    # --- witnessing the record ---------------------------------------------------------------

    def watch(self) -> list[Alarm]:
        """Check the record against everything this device holds (see :mod:`witness`)."""
        identities = {d: p.identity for d, p in self.directory.peers.items()}
        return self.witness.observe(self.host, self.openings, self.received_openings, identities)

    def post_checkpoint(self) -> bool:
        """Post this device's cosigned checkpoint to every device of the talks."""
        note = self.witness.cosigned(self.device_id, self.identity)
        if note is None or not self.directory.peers:
            return False
        self.send_items({device: [{"checkpoint": note}] for device in self.directory.peers})
        self.witness.posted_size = self.witness.size
        return True

    # --- persistence -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything this participant knows, as JSON values (the profile encrypts it at rest)."""
        return {
            "talks_host_id": self.talks_host_id,
            "talks_id": self.view.id,
            "me": self.me,
            "engine_device": self.engine_device,
            "convener": self.convener,
            "introduction": None if self.introduction is None else self.introduction.to_json(),
            "introductions": self.known_introductions,
            "applied": self.applied,
            "introduced": sorted(self._introduced),
            "openings": [[b64(salt), event] for salt, event in self.openings],
            "invites": self.invites,
            "pending_welcome": sorted(self.pending_welcome),
            "verified": sorted(self.verified),
            "dropped": [[d.sender_device, d.code, d.message] for d in self.dropped],
            "witness": self.witness.snapshot(),
            "received_openings": sorted(self.received_openings),
        }

    @classmethod
    def restore(
        cls, host: HostClient, identity: Identity, sessions: Sessions, state: Mapping[str, Any]
    ) -> Participant:
        """A participant from :meth:`snapshot`: its view rebuilt by applying its events again."""
        talks_host_id = str(state["talks_host_id"])
        directory = Directory()
        for device, data in state["introductions"].items():
            if device != host.device.device_id:
                directory.admit(Introduction.from_json(data).verify(talks_host_id))
        own = state["introduction"]
        participant = cls(
            host,
            identity,
            directory,
            talks_host_id,
            str(state["talks_id"]),
            me=str(state["me"]),
            engine_device=state["engine_device"],
            sessions=sessions,
            introduction=None if own is None else Introduction.from_json(own),
            convener=state["convener"],
        )
        participant.known_introductions = dict(state["introductions"])
        for item in state["applied"]:
            event = codec.decode(item["event"])
            participant.view = engine.apply(participant.view, event)
            participant._applied(event, item)
        participant._introduced = set(state["introduced"])
        participant.openings = [(unb64(salt), event) for salt, event in state["openings"]]
        participant.invites = dict(state["invites"])
        participant.pending_welcome = set(state["pending_welcome"])
        participant.verified = set(state["verified"])
        participant.dropped = [Dropped(*d) for d in state["dropped"]]
        participant.witness = Witness.restore(talks_host_id, state["witness"])
        participant.received_openings = set(state["received_openings"])
        return participant
