"""One party's device in a direct match: its deals, the PSI session, and what it learns.

Sans-I/O like the device protocol: bytes in, bytes out. A :class:`Side` expands its own sealed
commitments into deals (``engine/deal.py``), runs the PSI session (``crypto/psi.py``) over their
descriptors, and, once the intersection is confirmed, discloses its matched commitments and
checks the other side's (:meth:`Side.learn`). :func:`run_locally` plays both sides in memory, as
``backchannel match --direct`` and the tests do; over a talks the messages travel in the
end-to-end channel between the two envoys' devices (:mod:`.direct_session`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from backchannel.crypto import psi
from backchannel.engine.deal import Deal, Outcome, agree, deals, outcome
from backchannel.engine.escrow import Commitment, Escrow
from backchannel.engine.sequencing import Stage
from backchannel.errors import EscrowInvalid


@dataclass(frozen=True, slots=True)
class Learned:
    """Everything one side knows after a direct match, and nothing else."""

    outcome: Outcome
    disclosed: tuple[Commitment, ...]
    plan: tuple[Stage, ...]
    other_size: int
    own_deals: int
    matched_deals: int


@dataclass(slots=True)
class Side:
    """One party's side of a direct match with ``other``."""

    escrow: Escrow = field(repr=False)
    party: str
    other: str
    session: psi.Session = field(repr=False)
    by_descriptor: dict[bytes, Deal] = field(repr=False)

    @classmethod
    def open(
        cls,
        escrow: Escrow,
        party: str,
        other: str,
        *,
        talks: str,
        session: str,
        size: int,
        initiator: bool,
    ) -> Side:
        """A side holding only ``party``'s own commitments from ``escrow``."""
        own = tuple(c for c in escrow.commitments if c.party == party)
        mine = Escrow(escrow.parties, escrow.mediator, escrow.actions, own, escrow.scales)
        table = {d.descriptor(talks, session): d for d in deals(mine, party, other)}
        opened = psi.Session.open(talks, session, table, initiator=initiator, size=size)
        return cls(mine, party, other, opened, table)

    def start(self) -> bytes:
        """The initiator's first message."""
        return psi.encode(self.session.start())

    def receive(self, raw: bytes) -> bytes | None:
        """Take the other side's message; the bytes to send back, if any."""
        answer = self.session.receive(psi.decode(raw))
        return None if answer is None else psi.encode(answer)

    @property
    def outcome(self) -> Outcome:
        """The matched deal, own matched commitments and settlements (after the intersection)."""
        matched = [self.by_descriptor[d] for d in self.session.result.matched]
        return outcome(self.escrow, self.party, self.other, matched)

    def disclosure(self) -> tuple[Commitment, ...]:
        """What this side shows the other once both confirmed: its matched commitments only."""
        return self.outcome.commitments

    def learn(self, disclosed: Sequence[Commitment]) -> Learned:
        """Check the other side's disclosure against the deal; what this side learned."""
        mine = self.outcome
        stages = agree(self.escrow, mine, disclosed)
        return Learned(
            mine,
            tuple(disclosed),
            tuple(stages),
            self.session.result.other_size,
            len(self.by_descriptor),
            len(self.session.result.matched),
        )


def two_parties(escrow: Escrow) -> tuple[str, str]:
    """The escrow's two parties (the mediator left out); :class:`EscrowInvalid` otherwise."""
    named = list(escrow.parties) or sorted({c.party for c in escrow.commitments})
    parties = [p for p in named if p != escrow.mediator]
    if len(parties) != 2:
        raise EscrowInvalid("parties", "a direct match needs exactly two parties")
    if any(c.party == escrow.mediator for c in escrow.commitments):
        raise EscrowInvalid("commitments", "a direct match has no mediator's commitments")
    return parties[0], parties[1]


def run_locally(
    escrow: Escrow, *, talks: str, session: str, size: int
) -> tuple[Learned, Learned, list[bytes]]:
    """Both sides of a direct match in memory: what each learned, and every message's bytes."""
    first, second = two_parties(escrow)
    a = Side.open(escrow, first, second, talks=talks, session=session, size=size, initiator=True)
    b = Side.open(escrow, second, first, talks=talks, session=session, size=size, initiator=False)
    wire = [a.start()]
    sides = (b, a)
    turn = 0
    while True:
        answer = sides[turn % 2].receive(wire[-1])
        if answer is None:
            break
        wire.append(answer)
        turn += 1
    return a.learn(b.disclosure()), b.learn(a.disclosure()), wire
