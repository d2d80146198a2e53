"""Deals: what two parties compare when they match commitments without a mediator.

A **deal** is a whole exchange between two parties: the actions each gives and, for every numeric
term of those actions that has a public :class:`~backchannel.engine.escrow.Scale`, one value on
its grid. Each side expands its own sealed commitments into the finite set of deals it would
accept (:func:`deals`); the deals both accept are exactly the matches, so a private set
intersection of the two sets (``crypto/psi.py``) matches without anyone holding both.

A side accepts a deal (X it gives, Y the other gives, values v) when some set S of its own
commitments gives exactly X and each is supported by X ∪ Y at v (its requirement and ``not_before``
met, every demanded term's range holding v, every offered range holding v). The largest such S is
"every own commitment giving within X and supported", so acceptance is one pass. Two deals both
accept are self-supporting sets of the plain matcher, and self-supporting sets are closed under
union, so the largest deal in the intersection is the plain matcher's match
(:func:`backchannel.engine.escrow.match`) restricted to the two parties; :func:`outcome` reads it.

Both sides must encode one deal to the same bytes: :meth:`Deal.descriptor` is canonical JSON, the
two parties sorted, bound to the talks' host id and the session id so it never matches elsewhere.

Terms settle by the midpoint rule over the overlap *as the grid sees it*: the matched values of a
term run from the larger low to the smaller high, snapped inwards to the grid, and the term settles
at their midpoint. The intersection shows both ends of that overlap (docs/security-direct.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, product

from backchannel.engine.escrow import Commitment, Escrow, Scale, Term, supported
from backchannel.engine.sequencing import Stage, plan
from backchannel.errors import DealsTooMany, DisclosureDiffers, TermUnscaled

DESCRIPTOR_VERSION = "backchannel/deal/v1"
#: Actions one side may weigh (its own given ones and the other's): deals grow as 2^actions.
MAX_ACTIONS = 12
#: Most deals one side may accept, and most it may evaluate per accepted one.
MAX_DEALS = 1 << 14

Values = Mapping[tuple[str, str], float]


@dataclass(frozen=True, slots=True, order=True)
class Deal:
    """Two parties (sorted), the actions each gives (sorted), a grid index per scaled term."""

    parties: tuple[str, str]
    gives: tuple[tuple[str, ...], tuple[str, ...]]
    values: tuple[tuple[str, str, int], ...] = ()

    def descriptor(self, talks: str, session: str) -> bytes:
        """The canonical bytes both sides derive for this deal in these talks and this session."""
        body = {
            "deal": DESCRIPTOR_VERSION,
            "talks": talks,
            "session": session,
            "parties": list(self.parties),
            "gives": [list(g) for g in self.gives],
            "values": [list(v) for v in self.values],
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")

    def of(self, party: str) -> tuple[str, ...]:
        """What ``party`` gives in this deal."""
        return self.gives[self.parties.index(party)]

    @property
    def actions(self) -> frozenset[str]:
        """Every action given in the deal."""
        return frozenset(self.gives[0]) | frozenset(self.gives[1])


@dataclass(frozen=True, slots=True)
class Settlement:
    """Where a term settled, and the overlap (at the grid) it settled in."""

    action: str
    term: str
    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one side takes from the matched deals: the deal, its own commitments, the terms."""

    party: str
    other: str
    deal: Deal | None
    commitments: tuple[Commitment, ...]
    settlements: tuple[Settlement, ...]


def _subsets(items: Sequence[str]) -> Iterator[frozenset[str]]:
    for size in range(len(items) + 1):
        for chosen in combinations(items, size):
            yield frozenset(chosen)


def _scales(escrow: Escrow, own: Sequence[Commitment]) -> dict[tuple[str, str], Scale]:
    scales = {(s.action, s.term): s for s in escrow.scales}
    for commitment in own:
        for term in commitment.terms:
            if (term.action, term.term) not in scales:
                raise TermUnscaled(
                    f"{commitment.id}: the term {term.term} of {term.action} has no scale; "
                    "direct matching needs one to compare ranges without revealing them"
                )
    return scales


def _fits(commitment: Commitment, values: Values) -> bool:
    """Whether every range ``commitment`` states for a valued term holds the deal's value."""
    for term in commitment.terms:
        value = values.get((term.action, term.term))
        if value is not None and not term.low <= value <= term.high:
            return False
    return True


def chosen(
    own: Sequence[Commitment], x: frozenset[str], y: frozenset[str], values: Values
) -> list[Commitment]:
    """The largest set of own commitments giving within ``x`` and supported by the deal."""
    given: dict[str, list[Term]] = {a: [] for a in x | y}
    for (action, term), value in values.items():
        given[action].append(Term(action, term, value, value, demand=False))
    return [c for c in own if set(c.gives) <= x and _fits(c, values) and supported(c, given)]


def _candidates(scale: Scale, own: Sequence[Commitment], gives: bool) -> Iterable[int]:
    # A giver accepts only values inside some range it offers (or any, if a giver states none);
    # a requirer's demands are checked in acceptance, so its candidates are the whole grid.
    if not gives:
        return range(scale.buckets)
    givers = [c for c in own if scale.action in c.gives]
    offers = [
        [t for t in c.terms if (t.action, t.term, t.demand) == (scale.action, scale.term, False)]
        for c in givers
    ]
    if any(not o for o in offers):
        return range(scale.buckets)
    return sorted({i for o in offers for t in o for i in scale.within(t.low, t.high)})


def deals(escrow: Escrow, party: str, other: str, limit: int = MAX_DEALS) -> frozenset[Deal]:
    """Every deal with ``other`` that ``party``'s own commitments would accept."""
    own = [c for c in escrow.commitments if c.party == party]
    scales = _scales(escrow, own)
    mine = sorted({a for c in own for a in c.gives})
    theirs = sorted(a for a, action in escrow.actions.items() if action.by == other)
    if len(mine) + len(theirs) > MAX_ACTIONS:
        raise DealsTooMany(
            f"{len(mine) + len(theirs)} actions to weigh; direct matching takes {MAX_ACTIONS}"
        )
    parties = (party, other) if party < other else (other, party)
    accepted: set[Deal] = set()
    evaluated = 0
    for x in _subsets(mine):
        for y in _subsets(theirs):
            if not x and not y:
                continue
            keys = sorted(k for k in scales if k[0] in x | y)
            grids = [_candidates(scales[k], own, k[0] in x) for k in keys]
            for indexes in product(*grids):
                evaluated += 1
                if evaluated > limit * 16:
                    raise DealsTooMany(f"more than {limit * 16} deals to weigh")
                values = {k: scales[k].value(i) for k, i in zip(keys, indexes, strict=True)}
                if {a for c in chosen(own, x, y, values) for a in c.gives} != x:
                    continue
                split = (tuple(sorted(x)), tuple(sorted(y)))
                gives = split if parties[0] == party else (split[1], split[0])
                valued = tuple((a, t, i) for (a, t), i in zip(keys, indexes, strict=True))
                accepted.add(Deal(parties, gives, valued))
                if len(accepted) > limit:
                    raise DealsTooMany(f"more than {limit} acceptable deals")
    return frozenset(accepted)


def outcome(escrow: Escrow, party: str, other: str, matched: Iterable[Deal]) -> Outcome:
    """What ``party`` takes from the deals both sides accept: the largest, settled at midpoints."""
    matched = sorted(matched)
    if not matched:
        return Outcome(party, other, None, (), ())
    # Union-closure makes the widest deal's actions unique (a tie, possible only when values of
    # a shared term conflict, breaks to the first in sort order, the same on both sides).
    widest = max((d.actions for d in matched), key=lambda a: (len(a), sorted(a)))
    top = [d for d in matched if d.actions == widest]
    scales = {(s.action, s.term): s for s in escrow.scales}
    settlements: list[Settlement] = []
    middle: dict[tuple[str, str], float] = {}
    for position, (action, term, _) in enumerate(top[0].values):
        indexes = [d.values[position][2] for d in top]
        scale = scales[(action, term)]
        low, high = scale.value(min(indexes)), scale.value(max(indexes))
        middle[(action, term)] = (min(indexes) + max(indexes)) / 2
        settlements.append(Settlement(action, term, (low + high) / 2, low, high))
    # The commitments are those of the matched grid point nearest the midpoints: one both sides
    # accepted (a midpoint can fall in a gap between two of one side's ranges).
    nearest = min(top, key=lambda d: sum(abs(i - middle[(a, t)]) for a, t, i in d.values))
    values = {(a, t): scales[(a, t)].value(i) for a, t, i in nearest.values}
    own = [c for c in escrow.commitments if c.party == party]
    x, y = frozenset(nearest.of(party)), frozenset(nearest.of(other))
    return Outcome(party, other, nearest, tuple(chosen(own, x, y, values)), tuple(settlements))


def agree(escrow: Escrow, mine: Outcome, disclosed: Sequence[Commitment]) -> list[Stage]:
    """Check the other side's disclosed matched commitments against the deal; the joint plan.

    The other side discloses its matched commitments after the intersection (they become part of
    the signed act of the match). They must be its own, give exactly its part of the deal, and be
    supported by the deal: otherwise :class:`DisclosureDiffers`, and there is no plan.
    """
    deal = mine.deal
    if deal is None:
        if disclosed:
            raise DisclosureDiffers("commitments were disclosed although nothing matched")
        return []
    scales = {(s.action, s.term): s for s in escrow.scales}
    values = {(a, t): scales[(a, t)].value(i) for a, t, i in deal.values}
    theirs = frozenset(deal.of(mine.other))
    if any(c.party != mine.other for c in disclosed):
        raise DisclosureDiffers(f"a disclosed commitment is not {mine.other}'s")
    support = chosen(disclosed, theirs, frozenset(deal.of(mine.party)), values)
    if len(support) != len(disclosed) or {a for c in disclosed for a in c.gives} != theirs:
        raise DisclosureDiffers(f"{mine.other}'s disclosed commitments are not the matched deal")
    both = (*mine.commitments, *disclosed)
    joint = Escrow((deal.parties[0], deal.parties[1]), None, escrow.actions, both, escrow.scales)
    return plan(joint, both)
