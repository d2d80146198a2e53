"""The joining protocol of one device in one talks: invites, introductions, welcomes, greetings.

A newcomer introduces itself to its **sponsor** (the device whose invite it holds) with the
invite's secret; the sponsor admits it (:mod:`.admission`), forwards its introduction to every
live device, and **welcomes** it: every introduction the sponsor holds, the backlog of signed
acts the newcomer's party may know, and a :class:`~.wire.Greet`. Then, as the invite was for:

- a party's device declares its party (and first member and mandate) itself, once welcomed;
- a member's invite: the sponsor (its party's root) adds the member and grants its mandate;
- a device link: the sponsor (the same member) adds the device.

Every device that learns of a newcomer **greets** it with its own earlier signed acts (those made
before it knew the newcomer, which never reached it) and a ``Greet``. A device compares its
talks-wide state with others' only once it is :attr:`Joining.complete`: welcomed, and greeted by
every live device its welcome introduced.

:class:`Joining` is the part of a :class:`~.participant.Participant` that keeps this state; it
does no I/O either.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backchannel.client import fanout
from backchannel.client.admission import Admission, Purpose, check_admits, vouches
from backchannel.client.directory import Introduction, Peer
from backchannel.client.wire import Greet, Introduce, Item, Outgoing
from backchannel.crypto import fingerprint
from backchannel.crypto.signed import b64
from backchannel.engine import events as ev
from backchannel.engine.names import NO_NAMES, Names
from backchannel.engine.rules import Level, Role
from backchannel.errors import IntroductionRejected

if TYPE_CHECKING:
    from backchannel.client.participant import Participant


@dataclass(frozen=True, slots=True)
class Declaration:
    """What a newcomer admitted by a party's invite declares once welcomed."""

    party: str
    member: str | None
    level: Level
    mediator: bool = False
    name: str = ""
    names: Names = NO_NAMES  # the party's name in other languages
    member_name: str = ""
    member_names: Names = NO_NAMES

    def to_json(self) -> list[Any]:
        """As the profile stores it."""
        head = [self.party, self.member, self.level.label, self.mediator, self.name]
        return [*head, self.names.to_json(), self.member_name, self.member_names.to_json()]

    @classmethod
    def from_json(cls, data: list[Any]) -> Declaration:
        """A declaration from :meth:`to_json` (a profile saved before names has five fields)."""
        party, member, level, mediator, name = data[:5]
        names, member_name, member_names = data[5:] if len(data) > 5 else ({}, "", {})
        return cls(
            party,
            member,
            Level.parse(level),
            mediator,
            name,
            Names.from_json(names),
            member_name,
            Names.from_json(member_names),
        )


@dataclass
class _Due:
    """What is due once the protocol allows: sends, and acts to make (kind and fields)."""

    payloads: list[Outgoing] = field(default_factory=list)
    acts: list[tuple[type[ev.Event], dict[str, Any]]] = field(default_factory=list)


class Joining:
    """One device's joining state in one talks (see the module's header)."""

    def __init__(self, seat: Participant, *, sponsor: str | None, convener: str) -> None:
        self.seat = seat
        self.sponsor = sponsor
        self.convener = convener
        self.invites: dict[str, Admission] = {}
        self.pending_welcome: dict[str, Admission] = {}
        self.to_greet: set[str] = set()
        self.awaiting_greets: set[str] = set()
        self.welcomed = sponsor is None
        self.declaration: Declaration | None = None
        self._due = _Due()

    @property
    def complete(self) -> bool:
        """Whether every device this one was introduced to has passed on what it did before."""
        return self.welcomed and not (self.awaiting_greets - self.seat.directory.revoked)

    # --- invites and introductions -----------------------------------------------------------

    def issue_invite(self, admission: Admission) -> bytes:
        """A fresh invite secret admitting one device for ``admission``."""
        own = self.seat.introduction
        if own is None:
            raise IntroductionRejected("this device has no introduction to sponsor others with")
        if admission.purpose is Purpose.PARTY and self.convener != self.seat.device_id:
            raise IntroductionRejected("only the device that convened the talks invites parties")
        if admission.purpose is Purpose.MEMBER and not (own.root and own.party == admission.party):
            raise IntroductionRejected(f"only a device of {admission.party}'s root adds members")
        if admission.purpose is Purpose.DEVICE and own.member != admission.member:
            raise IntroductionRejected(f"only a device of {admission.member} adds its devices")
        secret = self.seat.random(16)
        self.invites[b64(secret)] = admission
        return secret

    def introduce(self, sender: str, item: Introduce) -> None:
        """Take an introduction: a newcomer's own, with an invite's secret, or one forwarded by
        a device that may vouch for it."""
        seat = self.seat
        peer = Introduction.from_json(item.intro).verify(seat.talks_host_id)
        if peer.host_device == sender:
            # A newcomer introduces itself, with the secret of an unspent invite of this device.
            secret = "" if item.invite is None else b64(item.invite)
            admission = self.invites.get(secret)
            if admission is None or seat.introduction is None:
                raise IntroductionRejected(f"{sender} introduced itself without a valid invite")
            check_admits(admission, peer, seat.introduction.verify(seat.talks_host_id))
            seat.directory.admit(peer)
            del self.invites[secret]
            self.pending_welcome[peer.host_device] = admission
        else:
            voucher = seat.directory.peers.get(sender)
            trusted = frozenset({self.convener, self.sponsor or self.convener})
            if voucher is None or not vouches(voucher, peer, trusted):
                raise IntroductionRejected(f"{sender} may not introduce {peer.host_device}")
            if seat.directory.admit(peer) and peer.host_device != seat.device_id:
                self.to_greet.add(peer.host_device)
                if sender == self.sponsor and not self.welcomed:
                    self.awaiting_greets.add(peer.host_device)
        seat.known_introductions[peer.host_device] = dict(item.intro)

    def greeted(self, sender: str) -> None:
        """``sender`` passed on what this device may have missed of it."""
        if sender == self.sponsor:
            self.welcomed = True
        self.awaiting_greets.discard(sender)

    # --- what is due ---------------------------------------------------------------------------

    def follow_ups(self, now: datetime) -> tuple[list[Outgoing], list[ev.Event]]:
        """What the protocol asks of this device now: payloads to send, then acts to make."""
        self._welcome()
        self._greet()
        if self.welcomed and self.declaration is not None:
            self._declare(self.declaration)
            self.declaration = None
        due, self._due = self._due, _Due()
        seat = self.seat
        events = [
            kind(at=now, device=seat.engine_device if f.get("actor") == seat.me else None, **f)
            for kind, f in due.acts
        ]
        return due.payloads, events

    def _welcome(self) -> None:
        seat = self.seat
        for newcomer, admission in sorted(self.pending_welcome.items()):
            peer = seat.directory.peers[newcomer]
            intros = [
                i
                for d, i in sorted(seat.known_introductions.items())
                if d not in (newcomer, seat.device_id)  # it holds this device's from its invite
            ]
            items: list[Item] = [Introduce(i) for i in intros]
            items += [
                replace(h.item, forwarded=True)
                for h in fanout.backlog(seat.applied(), seat.view, peer.party)
            ]
            payloads: dict[str, list[Item]] = {newcomer: [*items, Greet()]}
            forward = Introduce(seat.known_introductions[newcomer])
            for other in seat.directory.live():
                if other.host_device not in (newcomer, seat.device_id):
                    payloads[other.host_device] = [forward]
            self._due.payloads.append(Outgoing(payloads))
            self._admission_acts(admission, peer)
        self.pending_welcome.clear()

    def _admission_acts(self, admission: Admission, peer: Peer) -> None:
        intro = Introduction.from_json(self.seat.known_introductions[peer.host_device])
        device_fingerprint = fingerprint(intro.certificate.ed25519)
        member = admission.member
        if admission.purpose is Purpose.MEMBER and member is not None:
            self._due.acts.append(
                (
                    ev.AddMember,
                    {
                        "actor": admission.party,
                        "member": member,
                        "party": admission.party,
                        "name": admission.name,
                        "first_device": peer.host_device,
                        "fingerprint": device_fingerprint,
                    },
                )
            )
            self._grant(admission.party, member, admission.level or Level.OBSERVE)
        if admission.purpose is Purpose.DEVICE and member is not None:
            fields = {"actor": member, "member": member, "new_device": peer.host_device}
            self._due.acts.append((ev.AddDevice, {**fields, "fingerprint": device_fingerprint}))

    def _grant(self, party: str, member: str, level: Level) -> None:
        grant = "g-" + self.seat.random(6).hex()
        fields = {"actor": party, "grant": grant, "member": member, "level": level}
        self._due.acts.append((ev.Grant, fields))

    def _declare(self, d: Declaration) -> None:
        seat = self.seat
        role = Role.MEDIATOR if d.mediator else Role.PARTY
        party = {"actor": d.party, "party": d.party, "role": role, "name": d.name}
        self._due.acts.append((ev.AddParty, {**party, "names": d.names}))
        if d.member is None or seat.introduction is None:
            return
        fields = {"actor": d.party, "member": d.member, "party": d.party, "name": d.member_name}
        device = {
            "names": d.member_names,
            "first_device": seat.device_id,
            "fingerprint": fingerprint(seat.introduction.certificate.ed25519),
        }
        self._due.acts.append((ev.AddMember, {**fields, **device}))
        self._grant(d.party, d.member, d.level)

    def _greet(self) -> None:
        """Pass each device just introduced this device's own earlier acts, and say so."""
        if not self.to_greet:
            return
        seat = self.seat
        actors = seat.actors()
        payloads: dict[str, list[Item]] = {}
        for device in sorted(self.to_greet):
            party = seat.directory.peers[device].party
            own = fanout.backlog(seat.applied(), seat.view, party, actors)
            payloads[device] = [*(replace(h.item, forwarded=True) for h in own), Greet()]
        self.to_greet.clear()
        self._due.payloads.append(Outgoing(payloads))

    # --- persistence ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The joining state as JSON values."""
        return {
            "sponsor": self.sponsor,
            "convener": self.convener,
            "invites": {k: a.to_json() for k, a in self.invites.items()},
            "pending_welcome": {k: a.to_json() for k, a in self.pending_welcome.items()},
            "to_greet": sorted(self.to_greet),
            "awaiting_greets": sorted(self.awaiting_greets),
            "welcomed": self.welcomed,
            "declaration": None if self.declaration is None else self.declaration.to_json(),
        }

    @classmethod
    def restore(cls, seat: Participant, state: dict[str, Any]) -> Joining:
        """The joining state from :meth:`snapshot`."""
        joining = cls(seat, sponsor=state["sponsor"], convener=state["convener"])
        joining.invites = {k: Admission.from_json(a) for k, a in state["invites"].items()}
        joining.pending_welcome = {
            k: Admission.from_json(a) for k, a in state["pending_welcome"].items()
        }
        joining.to_greet = set(state["to_greet"])
        joining.awaiting_greets = set(state["awaiting_greets"])
        joining.welcomed = bool(state["welcomed"])
        found = state["declaration"]
        joining.declaration = None if found is None else Declaration.from_json(found)
        return joining
