"""A direct match through the talks: PSI rounds between two parties' devices, then a signed act.

Without a mediator, each party's device holds its own commitments (a file it names, never sent)
and runs :class:`~backchannel.client.direct_match.Side` with the other party's device; the rounds
travel as :class:`~backchannel.client.wire.Psi` items inside the pairwise Olm channel, addressed
only to the other party's live devices, so the host sees padded ciphertext and nothing else.

- **A session** has a random id (32 hex digits) drawn by the initiator. The PSI runs under
  :func:`label`: a BLAKE2b digest of the host's talks id, the session id, the initiator's and the
  responder's parties and the agreed size, which every point is hashed under and every message
  names (``crypto/psi.py``). A round of other talks, another session or between other parties
  is therefore refused (``psi.wrong_context``) and its points are worthless elsewhere.
- **Rounds** 1–4 are the PSI's Offer, Reply, Finish and Confirm; round 5 is each side's
  disclosure of its matched commitments, once the intersection is confirmed: the initiator's
  first (it learned the intersection a round earlier), the responder's once it checked it. A
  round is cut into parts (``wire.PSI_PART_BYTES``), each sent alone, so every ciphertext stays
  under the host's limit; the receiver joins them in order.
- **Arrival** (:class:`Inbox`): a Psi item is held (in the profile's sealed state) only from a
  known, unrevoked device of another party of the talks (``direct.not_in_session``) whose member
  holds the mandate the signed outcome needs (``mandate.insufficient``; so does this side's, to
  begin); anything else is dropped and reported. Rounds wait there until this device runs the
  session: a device answers an offer only when its user asks (``direct_run.begin``), never in the
  background.
- **Taking** (:class:`DirectRun`): a round must come from the session's other party
  (``direct.not_in_session``), be the round expected next (``psi.out_of_order``) and pass the
  PSI's checks; a disclosure must be the deal both matched (``direct.disclosure_differs``). A
  refused round is dropped and reported, and the session stays as it was.
- **The act**: once a side checked the other's disclosure, and something matched, it signs
  :class:`~backchannel.engine.events.DirectMatch` over :func:`backchannel.engine.direct.words`;
  every device of the two parties checks it at its place, and the match is agreed once both
  parties signed the same words (``engine/direct.py``).
- **Crossing offers**: if both sides start at once, the offer with the smaller session id wins;
  the other initiator answers it instead. An offer older than :data:`OFFER_TTL` is not answered.

Sans-I/O like the participant: times are passed in. Running a session through a profile (sync,
send, sign, wait) is :mod:`.direct_run`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from backchannel import engine
from backchannel.client.direct_match import Learned, Side
from backchannel.client.directory import Peer
from backchannel.client.participant import Participant
from backchannel.client.wire import (
    PSI_PART_BYTES,
    Item,
    Outgoing,
    Psi,
    item_from_json,
    item_json,
)
from backchannel.crypto import psi
from backchannel.engine import deposit, direct
from backchannel.engine import escrow as escrow_file
from backchannel.engine.mandate import standing
from backchannel.engine.rules import REQUIRED_LEVEL, Action
from backchannel.engine.state import DirectAgreement
from backchannel.errors import (
    BackchannelError,
    DirectNotInSession,
    DirectUnavailable,
    DisclosureDiffers,
    EscrowInvalid,
    MandateInsufficient,
    PsiMalformed,
    PsiOutOfOrder,
    PsiWrongContext,
)

DOMAIN = b"backchannel/direct-session/v1"
#: An offer held longer than this (seconds) is not answered: its initiator stopped waiting.
OFFER_TTL = 600
#: Parts held per talks at most (the oldest go first): bounds what a peer can make a device keep
#: (a Reply at ``psi.MAX_SIZE`` is about 140 parts).
MAX_HELD = 1024
#: A part held longer than this (seconds) is forgotten when the next one arrives.
KEEP_SECONDS = 3600


def public_terms(escrow: escrow_file.Escrow) -> str:
    """What both sides' files must hold alike, as canonical JSON: the actions (who gives each,
    who guarantees it) and the scales. Deals and plans are made of these."""
    actions = sorted([a.id, a.by, a.guarantor] for a in escrow.actions.values())
    scales = sorted([s.action, s.term, s.low, s.high, s.step] for s in escrow.scales)
    return direct.canonical({"actions": actions, "scales": scales})


def label(
    talks: str, session: str, initiator: str, responder: str, size: int, terms: str = ""
) -> str:
    """The PSI session string: the session id and a digest binding it to the talks, both
    parties (in their roles), the agreed size and the public terms (:func:`public_terms`)."""
    fields = (talks, session, initiator, responder, str(size), terms)
    framed = b"".join(len(p).to_bytes(8, "big") + p for p in (DOMAIN, *map(str.encode, fields)))
    return f"{session}.{blake2b(framed, digest_size=16, encoder=RawEncoder).hex()}"


def cut(session: str, number: int, payload: bytes) -> list[Psi]:
    """One round's bytes as the parts that carry it."""
    chunks = [payload[i : i + PSI_PART_BYTES] for i in range(0, len(payload), PSI_PART_BYTES)]
    return [Psi(session, number, n, len(chunks), chunk) for n, chunk in enumerate(chunks)]


@dataclass(frozen=True, slots=True)
class Held:
    """A part received, from which device, and when (this device's clock, seconds)."""

    sender: str
    item: Psi
    at: float


def may_match(view: engine.Talks, member: str | None, at: datetime) -> bool:
    """Whether a device acting as ``member`` (None: a party's root) may run a direct match: the
    mandate its signed outcome needs (``rules.ACTIONS``), held at ``at``."""
    if member is None:
        return True
    level = standing(view, member, at).level
    return level is not None and level >= REQUIRED_LEVEL[Action.DIRECT_MATCH]


def other_peer(participant: Participant, sender: str, at: datetime) -> Peer:
    """The known, unrevoked device ``sender`` of another party of the talks, whose member may
    match (or the refusal)."""
    peer = participant.directory.peers.get(sender)
    own = participant.introduction.party if participant.introduction else None
    if peer is None or sender in participant.directory.revoked:
        raise DirectNotInSession(f"a direct match round from unknown or revoked device {sender}")
    if peer.party == own or peer.party not in participant.view.parties:
        raise DirectNotInSession(f"a direct match round from {sender}, not another party's device")
    if not may_match(participant.view, None if peer.root else peer.member, at):
        raise MandateInsufficient(f"{peer.member} holds no mandate to match for {peer.party}")
    return peer


class Inbox:
    """Psi parts received, per talks host id, until a session takes them (see the header)."""

    def __init__(self, held: dict[str, list[Held]] | None = None) -> None:
        self.held: dict[str, list[Held]] = held or {}

    def take(
        self, participant: Participant, sender: str, items: Iterable[Item], now: float
    ) -> list[Item]:
        """Hold the Psi parts of one delivery (or drop them, reported); the other items."""
        rest: list[Item] = []
        for item in items:
            if not isinstance(item, Psi):
                rest.append(item)
                continue
            try:
                other_peer(participant, sender, datetime.fromtimestamp(now, UTC))
            except BackchannelError as exc:
                participant.drop(sender, exc)
                continue
            kept = self.held.setdefault(participant.talks_host_id, [])
            kept[:] = [h for h in kept if now - h.at <= KEEP_SECONDS]
            kept.append(Held(sender, item, now))
            del kept[: max(0, len(kept) - MAX_HELD)]
        return rest

    def of(self, talks: str) -> list[Held]:
        """What is held for the talks, in arrival order."""
        return list(self.held.get(talks, []))

    def remove(self, talks: str, taken: Iterable[Held]) -> None:
        """Forget parts a session took (or refused)."""
        gone = {id(h) for h in taken}
        self.held[talks] = [h for h in self.held.get(talks, []) if id(h) not in gone]

    def snapshot(self) -> dict[str, Any]:
        """As the profile keeps it, sealed."""
        return {
            talks: [{"sender": h.sender, "at": h.at, "item": item_json(h.item)} for h in held]
            for talks, held in self.held.items()
        }

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> Inbox:
        """An inbox from :meth:`snapshot`."""
        held: dict[str, list[Held]] = {}
        for talks, rows in data.items():
            for row in rows:
                item = item_from_json(row["item"])
                if isinstance(item, Psi):
                    held.setdefault(talks, []).append(Held(row["sender"], item, float(row["at"])))
        return cls(held)


def joined(parts: list[Held]) -> bytes:
    """A complete round's bytes from its parts, in order."""
    found = {held.item.part: held.item.payload for held in parts}
    return b"".join(found[n] for n in range(parts[0].item.parts))


@dataclass(frozen=True, slots=True)
class Round:
    """The parts of one round one device sent: ``complete``, or ``broken`` (a part repeated or
    disagreeing on the count before the round was complete), or still arriving (neither)."""

    session: str
    sender: str
    number: int
    parts: list[Held]
    complete: bool
    broken: bool = False


def rounds(held: Iterable[Held]) -> list[Round]:
    """The rounds held parts make, in the order they completed (then those still arriving)."""
    done: list[Round] = []
    arriving: dict[tuple[str, str, int], list[Held]] = {}
    for h in held:
        key = (h.item.session, h.sender, h.item.round)
        group = arriving.setdefault(key, [])
        if group and (
            h.item.parts != group[0].item.parts or any(g.item.part == h.item.part for g in group)
        ):
            done.append(Round(*key, group, complete=False, broken=True))
            group = arriving[key] = []
        group.append(h)
        if len(group) == h.item.parts:
            done.append(Round(*key, group, complete=True))
            arriving[key] = []
    return done + [Round(*k, g, complete=False) for k, g in arriving.items() if g]


@dataclass(slots=True)
class DirectRun:
    """One side of a direct match through the talks (sans-I/O: parts in, sends out)."""

    participant: Participant = field(repr=False)
    side: Side = field(repr=False)
    session: str
    party: str
    other: str
    initiator: bool
    own_texts: Mapping[str, str] = field(repr=False)
    expect: int = 1
    learned: Learned | None = field(default=None, repr=False)
    disclosed: tuple[str, ...] = field(default=(), repr=False)
    signed: bool = False

    @property
    def done(self) -> bool:
        """Whether this side learned the outcome (signing it is ``direct_run``'s)."""
        return self.learned is not None

    def sends(self, number: int, payload: bytes) -> list[Outgoing]:
        """One round, cut into parts, each its own send to every live device of the other party."""
        devices = [
            p.host_device for p in self.participant.directory.live() if p.party == self.other
        ]
        if not devices:
            raise DirectUnavailable(f"no device of {self.other} is known to this device")
        return [
            Outgoing({d: [part] for d in devices}) for part in cut(self.session, number, payload)
        ]

    def take(self, number: int, payload: bytes) -> list[Outgoing]:
        """The other side's round ``number``; what to send back. A refused round changes
        nothing (the PSI session refuses before it changes, and so does this)."""
        if number != self.expect:
            raise PsiOutOfOrder(f"round {number} is not expected now (round {self.expect} is)")
        if number == 5:
            self._learn(payload)
            self.expect = 0
            # The responder discloses second: the initiator learned the intersection first.
            return [] if self.initiator else self.sends(5, self._disclosure())
        answer = self.side.receive(payload)
        outs = [] if answer is None else self.sends(number + 1, answer)
        if self.side.session.done:  # the intersection is confirmed: the initiator discloses
            outs += self.sends(5, self._disclosure()) if self.initiator else []
            self.expect = 5
        else:
            self.expect = number + 2
        return outs

    def _disclosure(self) -> bytes:
        texts = [self.own_texts[c.id] for c in self.side.disclosure()]
        return direct.canonical({"commitments": sorted(texts)}).encode("utf-8")

    def _learn(self, payload: bytes) -> None:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise DisclosureDiffers("the other side's disclosure is not JSON") from None
        if not isinstance(data, dict) or set(data) != {"commitments"}:
            raise DisclosureDiffers("a disclosure holds exactly its commitments")
        texts = data["commitments"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise DisclosureDiffers("a disclosure's commitments are texts")
        commitments = []
        for text in texts:
            try:
                parsed = escrow_file.loads(text)
            except (EscrowInvalid, RecursionError) as exc:
                raise DisclosureDiffers(f"a disclosed commitment does not parse: {exc}") from None
            if len(parsed.commitments) != 1:
                raise DisclosureDiffers("each disclosed commitment is one commitment")
            commitments.append(parsed.commitments[0])
        self.learned = self.side.learn(commitments)
        self.disclosed = tuple(texts)

    def words(self) -> str | None:
        """The words both sides sign, once learned (None if nothing matched)."""
        learned = self.learned
        if learned is None or learned.outcome.deal is None:
            return None
        own = [self.own_texts[c.id] for c in learned.outcome.commitments]
        settled = [
            {"action": s.action, "term": s.term, "value": s.value, "low": s.low, "high": s.high}
            for s in learned.outcome.settlements
        ]
        parties = (self.party, self.other)
        return direct.words(self.session, parties, [*own, *self.disclosed], settled, learned.plan)

    def agreement(self) -> DirectAgreement | None:
        """The session's signed outcome as the record places it, if any."""
        return self.participant.view.direct.get(self.session)


def start(
    participant: Participant,
    document: Mapping[str, Any],
    *,
    other: str,
    size: int,
) -> tuple[DirectRun, list[Outgoing]]:
    """Open a session as its initiator; the run and round 1's sends."""
    session = secrets.token_hex(16)
    run = _open(participant, document, session, other=other, size=size, initiator=True)
    outs = run.sends(1, run.side.start())
    run.expect = 2
    return run, outs


def answer(
    participant: Participant,
    document: Mapping[str, Any],
    offer: bytes,
    *,
    session: str,
    other: str,
    size: int,
) -> tuple[DirectRun, list[Outgoing]]:
    """Answer ``other``'s offer of ``session``; the run and round 2's sends."""
    run = _open(participant, document, session, other=other, size=size, initiator=False)
    try:
        return run, run.take(1, offer)
    except PsiWrongContext as exc:
        made = psi.decode(offer)
        if made.talks == participant.talks_host_id and made.session.startswith(f"{session}."):
            raise PsiWrongContext(
                "the offer was made at another --size, or over other public actions or scales, "
                "than this side's file holds"
            ) from exc
        raise


def _open(
    participant: Participant,
    document: Mapping[str, Any],
    session: str,
    *,
    other: str,
    size: int,
    initiator: bool,
) -> DirectRun:
    own = participant.introduction.party if participant.introduction else participant.me
    escrow = escrow_file.parse(document)
    mine = [c for c in escrow.commitments if c.party == own]
    if not mine:
        raise DirectUnavailable(f"the file holds no commitment of {own}, this device's party")
    roles = (own, other) if initiator else (other, own)
    name = label(participant.talks_host_id, session, *roles, size, public_terms(escrow))
    side = Side.open(
        escrow,
        own,
        other,
        talks=participant.talks_host_id,
        session=name,
        size=size,
        initiator=initiator,
    )
    texts = {c.id: deposit.commitment_text(document, c.id) or "" for c in mine}
    return DirectRun(participant, side, session, own, other, initiator, texts)


def other_party(view: engine.Talks, own: str, named: str | None) -> str:
    """The party a direct match runs with: ``named``, or the talks' only other party."""
    if view.mediator is not None:
        raise DirectUnavailable("talks with a mediator match through its device, not directly")
    others = sorted(p for p in view.parties if p != own)
    if named is not None:
        if named not in others:
            raise DirectUnavailable(f"{named!r} is not another party of these talks")
        return named
    if len(others) != 1:
        raise DirectUnavailable(f"name the party to match with (--with): one of {others}")
    return others[0]


def pump(inbox: Inbox, run: DirectRun) -> tuple[DirectRun, list[Outgoing]]:
    """Feed ``run`` every complete round held for it; refused parts are dropped and reported.
    Crossing offers switch an initiator to the smaller session (see the header)."""
    participant = run.participant
    talks = participant.talks_host_id
    outs: list[Outgoing] = []
    for held in inbox.of(talks):
        peer = participant.directory.peers.get(held.sender)
        if held.item.session == run.session and (peer is None or peer.party != run.other):
            inbox.remove(talks, [held])
            participant.drop(
                held.sender, DirectNotInSession("a round of this session from another party")
            )
    for found in rounds(inbox.of(talks)):
        session, sender, number, parts = found.session, found.sender, found.number, found.parts
        crossing = number == 1 and run.initiator and run.expect == 2 and session < run.session
        if session != run.session and not crossing:
            if number > 1:
                inbox.remove(talks, parts)
                participant.drop(sender, PsiWrongContext("a round of a session not running here"))
            elif run.initiator and session > run.session:
                inbox.remove(talks, parts)  # a crossing offer that loses: its sender answers ours
            continue
        if not found.complete and not found.broken:
            continue
        inbox.remove(talks, parts)
        try:
            if found.broken:
                raise PsiMalformed("the parts of a round repeat or disagree on their count")
            if crossing:
                run, outs = _switch(run, joined(parts), session)
                continue
            outs += run.take(number, joined(parts))
        except BackchannelError as exc:
            participant.drop(sender, exc)
    return run, outs


def _switch(run: DirectRun, offer: bytes, session: str) -> tuple[DirectRun, list[Outgoing]]:
    """Answer a crossing offer with a smaller session id instead of waiting on our own."""
    talks, size = run.participant.talks_host_id, run.side.session.size
    side = Side.open(
        run.side.escrow,  # this side's own commitments only
        run.party,
        run.other,
        talks=talks,
        session=label(talks, session, run.other, run.party, size, public_terms(run.side.escrow)),
        size=size,
        initiator=False,
    )
    switched = DirectRun(run.participant, side, session, run.party, run.other, False, run.own_texts)
    return switched, switched.take(1, offer)
