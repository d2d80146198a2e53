"""One device in one talks, as a protocol: acts in → what to send; deliveries in → effects.

Like h11's ``Connection``, :class:`Participant` does no I/O: :meth:`act` checks an event with the
device's engine and returns the :class:`Outgoing` to put on the wire (the items for each device,
and the record entry: the event's commitment and recipient tags); :meth:`receive` takes the items
a delivery held; :meth:`advance` takes the record's new entries and applies, in record order,
everything the device holds (:mod:`.ledger`). :class:`~backchannel.client.driver.Driver` does
the encryption and the HTTP; tests drive participants device-to-device in memory.

- **Sending.** An act is checked on the device's view first (a refused act never leaves it),
  signed if the rules say so (:mod:`.acts`), fanned out to its audience (:mod:`.fanout`), and
  held as pending until the record places it: it is applied at its place, like everyone else's.
  If the host refuses the send, :meth:`refused` forgets it: nothing stays in the view.
- **Receiving.** Each item is checked when it arrives (the sender may act as the actor, the
  signature binds these talks and these words) and when the record's order reaches it (the
  words named, the mandate tokens, the engine's rules at that place). What fails is dropped and
  reported, whatever the sender's device claimed.
- **Watching.** The device finds its own recipient tag on every entry addressed to it; one it
  never received raises ``record.withheld``. It posts cosigned checkpoints with the digest of its
  talks-wide state, and a peer's digest that differs at the same record size raises
  ``state.diverged``.
- **Joining** (:mod:`.admission`): a newcomer introduces itself to its sponsor with an invite's
  secret; the sponsor forwards the introduction to everyone and welcomes the newcomer with
  theirs and its backlog; every device that learns of the newcomer greets it with its own earlier
  acts. A device compares its state with others' only once everyone it was introduced to has
  greeted it: until then it may lack acts made before they knew it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from backchannel import engine
from backchannel.client import acts, fanout, mandates
from backchannel.client.admission import Admission
from backchannel.client.directory import Directory, Introduction
from backchannel.client.joining import Joining
from backchannel.client.ledger import Held, Ledger
from backchannel.client.wire import (
    Cosigned,
    EventItem,
    Greet,
    Introduce,
    Item,
    Outgoing,
    SasKey,
)
from backchannel.client.witness import RecordSource, Witness
from backchannel.crypto import Identity, TagKey, fingerprint
from backchannel.crypto.signed import b64, unb64
from backchannel.crypto.tags import padded
from backchannel.engine import codec, quotation
from backchannel.engine import events as ev
from backchannel.engine.rules import RelayMode
from backchannel.errors import (
    BackchannelError,
    IntroductionRejected,
    MandateInsufficient,
    RuleViolation,
    TextQuotesConfidential,
)
from backchannel.record.entry import Entry
from backchannel.record.leaf import SALT_SIZE, commit


@dataclass(frozen=True, slots=True)
class Dropped:
    """A delivery this device refused, and why (a rule code or a check's code)."""

    sender_device: str
    code: str
    message: str


class Participant:
    """A member's device, or a party root's device, in one talks (see the module's header).

    ``me`` is the actor it acts as by default (its member, or its party for a root-only device);
    ``sponsor`` the device whose invite admitted it (None for the device that convened the
    talks); ``convener`` the talks' convener, as this device knows it.
    """

    def __init__(
        self,
        talks_host_id: str,
        talks_id: str,
        *,
        identity: Identity,
        tag_key: TagKey,
        device_id: str,
        me: str,
        engine_device: str | None,
        introduction: Introduction | None,
        directory: Directory | None = None,
        sponsor: str | None = None,
        convener: str | None = None,
        random: Callable[[int], bytes],
    ) -> None:
        self.talks_host_id = talks_host_id
        self.identity = identity
        self.tag_key = tag_key
        self.device_id = device_id
        self.me = me
        self.engine_device = engine_device
        self.introduction = introduction
        self.directory = directory or Directory()
        self.random = random
        self.ledger = Ledger(talks_id, self._check_placed)
        self.witness = Witness(talks_host_id)
        self.received_drops: list[Dropped] = []
        self.known_introductions: dict[str, dict[str, Any]] = {}
        self.joining = Joining(self, sponsor=sponsor, convener=convener or sponsor or device_id)
        #: This device's recorded acts sent but not yet acknowledged by the host, to send again
        #: (under the same id) after a crash or a lost connection.
        self.outbox: dict[bytes, Outgoing] = {}
        self.verified: set[str] = set()
        self.sas_inbox: dict[str, bytes] = {}
        self.peer_notes: dict[str, Cosigned] = {}
        #: Peer device → the record size at which its talks-wide state was last compared.
        self.compared: dict[str, int] = {}
        self.scanned: dict[str, int] = {}
        self.withheld: set[int] = set()
        self.missing: set[bytes] = set()
        self.refused_on_arrival: set[bytes] = set()
        #: Record indexes whose event was refused at its place (reported once in ``dropped``).
        self.refused_places: set[int] = set()
        self._round: set[bytes] = set()
        self._reordered_seen: list[int] = []
        self._delivered = 0
        if introduction is not None:
            self.known_introductions[device_id] = introduction.to_json()

    # --- what the device holds ---------------------------------------------------------------

    @property
    def view(self) -> engine.Talks:
        """The talks as the record's order gives them, from what this device holds."""
        return self.ledger.view

    @property
    def dropped(self) -> list[Dropped]:
        """Everything refused, in the order this device refused it: on arrival, and at its place
        in the record (own acts included)."""
        return self.received_drops

    @property
    def pending(self) -> list[ev.Event]:
        """This device's own acts sent but not yet placed by the record."""
        return [
            codec.decode(h.item.event)
            for h in self.ledger.waiting.values()
            if h.sender == self.device_id
        ]

    def tip(self) -> engine.Talks:
        """The view with this device's own pending acts applied after it, in the order it sent
        them: what its next act is checked against (the record still places each one)."""
        view = self.view
        for held in self.ledger.waiting.values():
            if held.sender == self.device_id:
                try:
                    view = engine.apply(view, codec.decode(held.item.event))
                except BackchannelError:
                    continue
        return view

    @property
    def complete(self) -> bool:
        """Whether every device this one was introduced to has passed on what it did before."""
        return self.joining.complete

    @property
    def sponsor(self) -> str | None:
        """The device whose invite admitted this one (None: it convened the talks)."""
        return self.joining.sponsor

    @property
    def convener(self) -> str:
        """The talks' convener as this device knows it (its sponsor, if it has one)."""
        return self.joining.convener

    @property
    def invites(self) -> dict[str, Admission]:
        """This device's unspent invites, by secret."""
        return self.joining.invites

    def items(self) -> list[EventItem]:
        """The items of every event applied, in record order."""
        return [held.item for _, held in self.ledger.applied]

    def identity_of(self, actor: str) -> bytes:
        """The identity key acting as ``actor`` (a member, or a party's root), this one's too."""
        own = self.introduction
        if actor == self.me or (
            own is not None and actor in (own.member, own.party if own.root else None)
        ):
            return self.identity.public_key
        return self.directory.identity_of(actor)

    # --- sending -------------------------------------------------------------------------------

    def act(self, event: ev.Event) -> Outgoing:
        """Check ``event`` on this device and return what to send; the act is pending until the
        record places it. Raises the :class:`RuleViolation` the device's engine finds.

        A draft of the negotiating text is also refused when it quotes words this device holds
        that may not leave their room: only this device can check that, so the engine cannot.
        """
        if event.actor not in self.actors():
            raise MandateInsufficient(
                f"this device acts as {', '.join(sorted(self.actors()))}, not as {event.actor}"
            )
        if isinstance(event, ev.DraftArticle):
            found = quotation.confidential_quote(self.view, event.text)
            if found is not None:
                message, run = found
                raise TextQuotesConfidential(
                    f"the draft repeats message {message.id!r} ({message.label.value}), which "
                    f"every party would then read: “{run}”"
                )
        tip = self.tip()
        after = engine.apply(tip, event)
        forms = fanout.recipients(self.directory, tip, after, event, self.device_id)
        signed = acts.sign(self.identity, self.talks_host_id, tip, event)
        salt = self.random(SALT_SIZE)
        item = replace(signed, salt=salt, mandate=self._token_for(tip, event))
        commitment = commit(salt, item.event)
        opened = fanout.openings(self.directory, tip, self.applied(), forms, event)
        payloads: dict[str, list[Item]] = {
            device: [
                *opened.get(device, []),
                item if form is event else self._projection(form, commitment),
            ]
            for device, form in forms.items()
        }
        tags = [
            self.tag_key.tag(self.directory.peers[d].tag_key, self.talks_host_id, d, commitment)
            for d in forms
        ]
        self.ledger.hold(Held(self.device_id, item))
        entry = commitment + b"".join(padded(tags, self.random))
        out = Outgoing(payloads, entry, commitment, self.random(16).hex())
        self.outbox[commitment] = out
        return out

    def sent(self, out: Outgoing) -> None:
        """The host recorded ``out``: nothing is left to send again."""
        if out.commitment is not None:
            self.outbox.pop(out.commitment, None)

    def refused(self, out: Outgoing) -> None:
        """The host refused ``out``: the act was never recorded, so nothing of it stays."""
        if out.commitment is not None:
            self.outbox.pop(out.commitment, None)
            self.ledger.forget(out.commitment)

    def _token_for(self, view: engine.Talks, event: ev.Event) -> str | None:
        items = [*self.items(), *(h.item for h in self.ledger.waiting.values())]
        if isinstance(event, ev.Grant):
            return mandates.for_grant(
                self.talks_host_id, view, self.identity, self.identity_of, items, event
            )
        if isinstance(event, ev.Confirm):
            return mandates.for_confirm(view, self.identity, self.identity_of, items, event)
        return None

    def _projection(self, form: ev.Event, commitment: bytes) -> EventItem:
        """A form of the act that cannot open its commitment (a relay's carry): it names it."""
        original = None
        if isinstance(form, ev.Carry) and form.mode is RelayMode.VERBATIM:
            original = acts.original_of(self.items(), str(form.source))
        return EventItem(event=codec.encode(form), commitment=commitment, original=original)

    # --- receiving -----------------------------------------------------------------------------

    def hears_from(self, sender: str) -> bool:
        """Whether a delivery from ``sender`` can be opened: a known device, or (while this
        device has invites out) a stranger that may be introducing itself."""
        return sender in self.directory.peers or bool(self.joining.invites)

    def receive(self, sender: str, items: Iterable[Item]) -> None:
        """Take the items of one delivery from ``sender``; what fails is dropped, with its code."""
        items = list(items)
        if sender not in self.directory.peers and (
            len(items) != 1 or not isinstance(items[0], Introduce)
        ):
            self.drop(sender, IntroductionRejected(f"unknown device {sender} did not introduce"))
            return
        for item in items:
            try:
                self._take(sender, item)
            except (BackchannelError, ValueError, KeyError, TypeError) as exc:
                self.drop(sender, exc, item)

    def drop(self, sender: str, exc: Exception, item: Item | None = None) -> None:
        """Report a delivery (or one of its items) refused on arrival."""
        code = exc.code if isinstance(exc, BackchannelError) else "event.malformed"
        message = exc.message if isinstance(exc, BackchannelError) else str(exc)
        self.received_drops.append(Dropped(sender, code, message))
        if isinstance(item, EventItem):
            commitment = Held(sender, item).commitment
            if commitment is not None:
                self.refused_on_arrival.add(commitment)  # delivered, so not withheld

    def _take(self, sender: str, item: Item) -> None:
        match item:
            case Introduce():
                self.joining.introduce(sender, item)
            case Greet():
                self.joining.greeted(sender)
            case Cosigned():
                self.peer_notes[sender] = item
            case SasKey():
                self.sas_inbox[sender] = item.key
            case EventItem():
                peer = self.directory.peers[sender]
                acts.check_received(self.talks_host_id, item, peer, self.identity_of)
                delivered = None
                if not item.forwarded:
                    self._delivered += 1
                    delivered = self._delivered
                held = Held(sender, item, delivered)
                if held.commitment is None:
                    raise RuleViolation("an event names no record entry")
                self.ledger.hold(held)

    def _check_placed(self, view: engine.Talks, event: ev.Event, held: Held) -> None:
        acts.check_placed(view, event, held.item)
        mandates.check_placed(self.talks_host_id, view, self.identity_of, event, held.item)

    # --- the record ----------------------------------------------------------------------------

    def begin_round(self) -> None:
        """Mark what this device holds before it reads the record: each must be in it."""
        self._round = set(self.ledger.waiting)

    def take_entries(self, entries: Iterable[Entry]) -> None:
        """Take the record's new entries (checked by the witness): what this device held before
        reading them must be among them."""
        self.ledger.extend(entries)
        for commitment in self._round & set(self.ledger.waiting) - set(self.outbox):
            if commitment not in self.missing:
                self.missing.add(commitment)
                self.witness.alarm(
                    "record.entry_missing",
                    "an event this device sent or received is not in the record",
                    commitment=b64(commitment),
                )
        self._round = set()
        for index in self.ledger.reordered[len(self._reordered_seen) :]:
            self._reordered_seen.append(index)
            self.witness.alarm(
                "record.reordered",
                "the record orders two events otherwise than they were delivered",
                index=index,
            )

    def advance(self) -> list[ev.Event]:
        """Apply, in record order, what this device holds up to the checked head; the events
        newly applied from others."""
        done = self.ledger.advance(self.witness.size)
        for refused in self.ledger.refused:
            if refused.index not in self.refused_places:
                self.refused_places.add(refused.index)
                self.received_drops.append(
                    Dropped(refused.held.sender, refused.code, refused.message)
                )
        self._scan_withheld()
        self._mark_revoked()
        return [event for _, held, event in done if held.sender != self.device_id]

    def _scan_withheld(self) -> None:
        """Find this device's tag on entries it holds nothing for: the host withheld them."""
        size = min(self.witness.size, len(self.ledger.entries))
        for device, peer in self.directory.peers.items():
            if device == self.device_id or not peer.tag_key:
                continue
            for index in range(self.scanned.get(device, 0), size):
                if index in self.ledger.placed or index in self.withheld:
                    continue
                entry = self.ledger.entries[index]
                if entry.commitment in self.refused_on_arrival:
                    continue
                mine = self.tag_key.tag(
                    peer.tag_key, self.talks_host_id, self.device_id, entry.commitment
                )
                if mine in entry.tags:
                    self.withheld.add(index)
                    self.witness.alarm(
                        "record.withheld",
                        f"the record holds an event {device} addressed to this device at entry "
                        f"{index}, and the host never delivered it",
                        index=index,
                        device=device,
                    )
            self.scanned[device] = size

    def _mark_revoked(self) -> None:
        """Devices revoked in the talks leave the directory's live devices."""
        revoked = {d.id for d in self.view.devices.values() if d.revoked}
        self.directory.revoked = {
            peer.host_device
            for peer in self.directory.peers.values()
            if peer.engine_device in revoked
        }

    def compare_peers(self, source: RecordSource) -> None:
        """Check the checkpoints peers posted against this record, and their state's digest
        against this device's at the same size (kept until this device reaches that size)."""
        for device, posted in sorted(self.peer_notes.items()):
            peer = self.directory.peers.get(device)
            if peer is None or device in self.directory.revoked:
                # A revoked device hears nothing new: its state stops where it was revoked.
                del self.peer_notes[device]
                continue
            head = self.witness.compare(source, device, peer.identity, posted.note)
            if head is None or posted.digest is None or not self.complete:
                del self.peer_notes[device]
                continue
            ours = self.ledger.digest_at(head.size)
            if ours is None:
                continue  # not applied that far yet: compare later
            del self.peer_notes[device]
            self.compared[device] = head.size
            if ours != posted.digest:
                self.witness.alarm(
                    "state.diverged",
                    f"{device} holds other talks-wide state than this device after the same "
                    f"{head.size} entries of the record",
                    device=device,
                    size=head.size,
                    ours=b64(ours),
                    theirs=b64(posted.digest),
                )

    def devices_json(self) -> list[dict[str, Any]]:
        """Every device of the talks, this one first, as ``device list --json`` and the web app
        show them: who holds it, its owner's identity fingerprint to compare out of band,
        whether it was verified or revoked (:meth:`Directory.devices_json`'s shape)."""
        intro = self.introduction
        own = self.view.devices.get(self.engine_device or "")
        this = {
            "device": self.device_id,
            "party": None if intro is None else intro.party,
            "member": None if intro is None else intro.member,
            "root": intro is not None and intro.root,
            "fingerprint": fingerprint(self.identity.public_key),
            "verified": True,
            "revoked": own is not None and own.revoked,
            "this_device": True,
        }
        others = [{**d, "this_device": False} for d in self.directory.devices_json(self.verified)]
        return [this, *others]

    def status_json(self) -> dict[str, Any]:
        """What ``record status`` and the web app's Record page show: the witness's checks,
        and the talks-wide state this device holds, its digest, and whom it was compared with."""
        digest = self.ledger.digest_at(self.ledger.upto)
        return {
            **self.witness.to_json(),
            # Every event applied sits at its place in the checked record: proven there.
            "verified_events": len(self.ledger.applied),
            "held_events": len(self.ledger.applied) + len(self.ledger.waiting),
            "state": {
                "size": self.ledger.upto,
                "digest": None if digest is None else b64(digest),
                "complete": self.complete,
                "compared": self.directory.sizes_json(self.compared),
            },
        }

    def checkpoint_item(self, now_s: int) -> Cosigned | None:
        """This device's cosigned checkpoint, with its state's digest once it can vouch for it."""
        note = self.witness.cosigned(self.device_id, self.identity, now_s)
        own = self.view.devices.get(self.engine_device or "")
        if note is None or (own is not None and own.revoked):
            return None
        size = self.witness.size
        digest = self.ledger.digest_at(size) if self.complete else None
        return Cosigned(note, digest)

    # --- joining -------------------------------------------------------------------------------

    def issue_invite(self, admission: Admission) -> bytes:
        """A fresh invite secret admitting one device for ``admission``."""
        return self.joining.issue_invite(admission)

    def introduce_to(self, sponsor: str, invite_secret: bytes) -> Outgoing:
        """This device's introduction, with the invite's secret, for its sponsor."""
        if self.introduction is None:
            raise IntroductionRejected("this device has no introduction to send")
        item = Introduce(self.introduction.to_json(), invite_secret)
        return Outgoing({sponsor: [item]})

    def follow_ups(self, now: datetime) -> tuple[list[Outgoing], list[ev.Event]]:
        """What the joining protocol asks of this device now: payloads to send, then acts."""
        return self.joining.follow_ups(now)

    def applied(self) -> list[Held]:
        """What this device applied, in record order."""
        return [held for _, held in self.ledger.applied]

    def actors(self) -> frozenset[str]:
        """The actors this device acts as: its member, and its party if it holds the root."""
        intro = self.introduction
        if intro is None:
            return frozenset({self.me})
        return frozenset({intro.member} if intro.member else set()) | (
            {intro.party} if intro.root else set()
        )

    # --- persistence ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything this participant knows, as JSON values (the profile seals it at rest)."""
        return {
            "talks_host_id": self.talks_host_id,
            "talks_id": self.view.id,
            "me": self.me,
            "engine_device": self.engine_device,
            "joining": self.joining.snapshot(),
            "introduction": None if self.introduction is None else self.introduction.to_json(),
            "introductions": self.known_introductions,
            "ledger": self.ledger.snapshot(),
            "witness": self.witness.snapshot(),
            "dropped": [[d.sender_device, d.code, d.message] for d in self.received_drops],
            "verified": sorted(self.verified),
            "scanned": self.scanned,
            "withheld": sorted(self.withheld),
            "missing": sorted(b64(c) for c in self.missing),
            "refused_on_arrival": sorted(b64(c) for c in self.refused_on_arrival),
            "delivered": self._delivered,
            "compared": self.compared,
            "refused_places": sorted(self.refused_places),
            "outbox": [out.to_json() for out in self.outbox.values()],
        }

    @classmethod
    def restore(
        cls,
        state: Mapping[str, Any],
        *,
        identity: Identity,
        tag_key: TagKey,
        device_id: str,
        random: Callable[[int], bytes],
    ) -> Participant:
        """A participant from :meth:`snapshot`: its view folded again from what it holds."""
        host_id = str(state["talks_host_id"])
        directory = Directory()
        for device, data in state["introductions"].items():
            if device != device_id:
                directory.admit(Introduction.from_json(data).verify(host_id))
        own = state["introduction"]
        participant = cls(
            host_id,
            str(state["talks_id"]),
            identity=identity,
            tag_key=tag_key,
            device_id=device_id,
            me=str(state["me"]),
            engine_device=state["engine_device"],
            introduction=None if own is None else Introduction.from_json(own),
            directory=directory,
            random=random,
        )
        participant.joining = Joining.restore(participant, state["joining"])
        participant.known_introductions = dict(state["introductions"])
        participant.ledger = Ledger.restore(
            participant.view.id, participant._check_placed, state["ledger"]
        )
        participant.witness = Witness.restore(host_id, state["witness"])
        participant.received_drops = [Dropped(*d) for d in state["dropped"]]
        participant.verified = set(state["verified"])
        participant.scanned = {k: int(v) for k, v in state["scanned"].items()}
        participant.withheld = set(state["withheld"])
        participant.missing = {unb64(c) for c in state["missing"]}
        participant.refused_on_arrival = {unb64(c) for c in state["refused_on_arrival"]}
        participant._delivered = int(state["delivered"])
        participant.compared = {k: int(v) for k, v in state["compared"].items()}
        participant.refused_places = set(state["refused_places"])
        for data in state["outbox"]:
            out = Outgoing.from_json(data)
            if out.commitment is not None:
                participant.outbox[out.commitment] = out
        participant._mark_revoked()
        return participant
