"""The sealed escrow: conditional commitments ("X if Y, and not before"), and what matches.

Parties deposit commitments that stay sealed unless reciprocated. A commitment *gives* actions,
*requires* a condition over actions (an action, or all-of / any-of, nested), may wait until some
actions are done first (``not_before``), and may carry numeric terms (an offered range, or a
demanded range, for a term of an action). :func:`match` finds the largest **self-supporting** set:
every requirement of every commitment in it is met by actions given inside it, with terms whose
ranges overlap, and every ``not_before`` action is itself given inside it.

Requirements are monotone (no negation: adding commitments only adds actions and offered ranges),
so the union of two self-supporting sets is self-supporting and a largest one exists and is
unique. It is the greatest fixed point of "drop every commitment whose requirement fails", which
is what :func:`match` computes. The order of the matched actions is planned in
:mod:`backchannel.engine.sequencing`; what each viewer may see is decided in :func:`view`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backchannel.errors import EscrowInvalid


@dataclass(frozen=True, slots=True)
class Action:
    """Something one party can do; ``guarantor`` verifies that it was done."""

    id: str
    by: str
    description: str = ""
    description_ar: str = ""
    guarantor: str | None = None


@dataclass(frozen=True, slots=True)
class Need:
    """The condition "this action is given"."""

    action: str


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every one of the conditions."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one of the conditions."""

    parts: tuple[Condition, ...]


Condition = Need | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class Term:
    """A numeric range for a term of an action: offered by its giver, or demanded by a requirer."""

    action: str
    term: str
    low: float
    high: float
    demand: bool

    def overlap(self, other: Term) -> tuple[float, float] | None:
        """The common part of two ranges, if any."""
        low, high = max(self.low, other.low), min(self.high, other.high)
        return (low, high) if low <= high else None


@dataclass(frozen=True, slots=True)
class Scale:
    """The public grid of a numeric term, for direct matching: ``low`` to ``high`` by ``step``."""

    action: str
    term: str
    low: float
    high: float
    step: float

    @property
    def buckets(self) -> int:
        """How many values the grid holds."""
        return math.floor((self.high - self.low) / self.step + 1e-9) + 1

    def value(self, index: int) -> float:
        """The grid's value at ``index`` (rounded, so 15 steps of 0.1 print as 1.5)."""
        return round(self.low + index * self.step, 9)

    def within(self, low: float, high: float) -> range:
        """The indexes of grid values inside ``[low, high]`` (ranges snap inwards to the grid)."""
        # The 1e-9 slack keeps a bound that is a grid value inside despite float rounding.
        first = math.ceil((low - self.low) / self.step - 1e-9) if low > self.low else 0
        last = self.buckets - 1
        if high < self.high:
            last = min(last, math.floor((high - self.low) / self.step + 1e-9))
        return range(first, last + 1)


@dataclass(frozen=True, slots=True)
class Commitment:
    """Party ``party`` will give ``gives`` if ``requires`` holds, and not before ``not_before``;
    with ``expires``, only in a match placed in the record before that time."""

    id: str
    party: str
    gives: tuple[str, ...] = ()
    requires: Condition | None = None
    not_before: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()
    description: str = ""
    expires: datetime | None = None

    def live(self, at: datetime | None) -> bool:
        """Whether the commitment may still match at the record's time ``at`` (None: no clock,
        as in a file)."""
        return self.expires is None or at is None or at < self.expires


@dataclass(frozen=True, slots=True)
class Escrow:
    """Everything deposited: parties (the mediator named), actions and commitments."""

    parties: tuple[str, ...]
    mediator: str | None
    actions: Mapping[str, Action]
    commitments: tuple[Commitment, ...]
    scales: tuple[Scale, ...] = ()


# --- matching --------------------------------------------------------------------------------


def offers(escrow: Escrow, chosen: Sequence[Commitment]) -> dict[str, list[Term]]:
    """Action id → the ranges offered for its terms by the chosen commitments that give it."""
    given: dict[str, list[Term]] = {}
    for commitment in chosen:
        for action in commitment.gives:
            given.setdefault(action, []).extend(
                t for t in commitment.terms if t.action == action and not t.demand
            )
    return given


def need_met(commitment: Commitment, action: str, given: Mapping[str, list[Term]]) -> bool:
    """Whether ``action`` is given, with every term ``commitment`` demands of it on offer."""
    if action not in given:
        return False
    for demand in commitment.terms:
        if demand.demand and demand.action == action:
            matching = [o for o in given[action] if o.term == demand.term]
            if not any(demand.overlap(o) for o in matching):
                return False
    return True


def holds(
    condition: Condition | None, commitment: Commitment, given: Mapping[str, list[Term]]
) -> bool:
    """Whether ``condition`` (of ``commitment``) holds when ``given`` are the actions on offer."""
    match condition:
        case None:
            return True
        case Need(action):
            return need_met(commitment, action, given)
        case AllOf(parts):
            return all(holds(part, commitment, given) for part in parts)
        case AnyOf(parts):
            return any(holds(part, commitment, given) for part in parts)
    raise TypeError(condition)  # pragma: no cover


def supported(commitment: Commitment, given: Mapping[str, list[Term]]) -> bool:
    """Whether the commitment's requirement and its ``not_before`` actions are all given."""
    waits = all(action in given for action in commitment.not_before)
    return waits and holds(commitment.requires, commitment, given)


def match(escrow: Escrow) -> tuple[Commitment, ...]:
    """The largest self-supporting set of commitments, in deposit order."""
    chosen = list(escrow.commitments)
    while True:
        given = offers(escrow, chosen)
        kept = [c for c in chosen if supported(c, given)]
        if len(kept) == len(chosen):
            return tuple(kept)
        chosen = kept


def settlements(escrow: Escrow, matched: Sequence[Commitment]) -> list[dict[str, Any]]:
    """Where demanded and offered ranges overlap, settle at the midpoint of the overlap.

    As in double-blind bidding, neither side learns the other's range beyond the settled value.
    An overlap open at one end settles at its finite end, the least extreme value both accept;
    one open at both ends (neither range bounded) settles nowhere: its value is None.
    """
    given = offers(escrow, matched)
    settled: list[dict[str, Any]] = []
    for commitment in matched:
        for demand in commitment.terms:
            if not demand.demand:
                continue
            for offer in given.get(demand.action, []):
                common = offer.overlap(demand) if offer.term == demand.term else None
                if common is not None:
                    settled.append(
                        {
                            "action": demand.action,
                            "term": demand.term,
                            "value": settled_value(*common),
                            "for": commitment.id,
                        }
                    )
                    break
    return settled


def settled_value(low: float, high: float) -> float | None:
    """The value a term settles at within the overlap ``[low, high]``; None if it is unbounded."""
    if math.isfinite(low) and math.isfinite(high):
        return (low + high) / 2
    if math.isfinite(low) or math.isfinite(high):
        return low if math.isfinite(low) else high
    return None


# --- reading files -----------------------------------------------------------------------------


def loads(text: str) -> Escrow:
    """Parse an escrow file's text; :class:`EscrowInvalid` names the field (or line and column)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EscrowInvalid(
            f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}"
        ) from exc
    return parse(data)


def parse(data: Any) -> Escrow:
    """Validate an already-decoded escrow document."""
    if not isinstance(data, dict):
        raise EscrowInvalid("(top level)", "must be an object")
    unknown = set(data) - {"parties", "actions", "commitments", "scales", "title", "description"}
    if unknown:
        raise EscrowInvalid(sorted(unknown)[0], "is not a field of an escrow file")
    parties, mediator = _parties(data.get("parties", []))
    actions: dict[str, Action] = {}
    for i, raw in enumerate(_list(data, "actions")):
        where = f"actions[{i}]"
        _fields(raw, where, {"id", "by", "description", "description_ar", "guarantor"})
        action = Action(
            id=_text(raw, "id", where),
            by=_text(raw, "by", where),
            description=_text(raw, "description", where, required=False),
            description_ar=_text(raw, "description_ar", where, required=False),
            guarantor=_text(raw, "guarantor", where, required=False) or None,
        )
        if action.id in actions:
            raise EscrowInvalid(f"{where}.id", f"{action.id!r} is used twice")
        _known_party(parties, action.by, f"{where}.by")
        if action.guarantor is not None:
            _known_party(parties, action.guarantor, f"{where}.guarantor")
        actions[action.id] = action
    commitments: list[Commitment] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(data, "commitments")):
        commitment = _commitment(raw, f"commitments[{i}]", actions, parties)
        if commitment.id in seen:
            raise EscrowInvalid(f"commitments[{i}].id", f"{commitment.id!r} is used twice")
        seen.add(commitment.id)
        commitments.append(commitment)
    scales = tuple(
        _scale(raw, f"scales[{i}]", actions) for i, raw in enumerate(_list(data, "scales"))
    )
    if len({(s.action, s.term) for s in scales}) != len(scales):
        raise EscrowInvalid("scales", "a term has two scales")
    return Escrow(tuple(parties), mediator, actions, tuple(commitments), scales)


#: Most values one scale may hold: direct matching sends a point per value.
MAX_BUCKETS = 1000


def _scale(raw: Any, where: str, actions: Mapping[str, Action]) -> Scale:
    _fields(raw, where, {"action", "term", "min", "max", "step"})
    action = _text(raw, "action", where)
    if action not in actions:
        raise EscrowInvalid(f"{where}.action", f"{action!r} is not a declared action")
    low, high, step = (_number(raw.get(k), f"{where}.{k}") for k in ("min", "max", "step"))
    if not all(math.isfinite(x) for x in (low, high, step)) or step <= 0 or low >= high:
        raise EscrowInvalid(where, "needs finite min < max and a positive step")
    scale = Scale(action, _text(raw, "term", where), low, high, step)
    if scale.buckets > MAX_BUCKETS:
        raise EscrowInvalid(where, f"holds more than {MAX_BUCKETS} values")
    return scale


def _parties(raw: Any) -> tuple[list[str], str | None]:
    if not isinstance(raw, list):
        raise EscrowInvalid("parties", "must be a list")
    parties: list[str] = []
    mediator = None
    for i, entry in enumerate(raw):
        where = f"parties[{i}]"
        if isinstance(entry, str):
            entry = {"id": entry}
        _fields(entry, where, {"id", "role", "name"})
        party = _text(entry, "id", where)
        role = _text(entry, "role", where, required=False) or "party"
        if role not in {"party", "mediator"}:
            raise EscrowInvalid(f"{where}.role", f"{role!r} is not party or mediator")
        if role == "mediator":
            if mediator is not None:
                raise EscrowInvalid(f"{where}.role", "there is already a mediator")
            mediator = party
        if party in parties:
            raise EscrowInvalid(f"{where}.id", f"{party!r} is listed twice")
        parties.append(party)
    return parties, mediator


def _commitment(
    raw: Any, where: str, actions: Mapping[str, Action], parties: list[str]
) -> Commitment:
    allowed = {"id", "party", "gives", "requires", "not_before", "terms", "description", "expires"}
    _fields(raw, where, allowed | {"description_ar"})
    party = _text(raw, "party", where)
    _known_party(parties, party, f"{where}.party")
    gives = _action_list(raw.get("gives", []), f"{where}.gives", actions)
    for j, action in enumerate(gives):
        if actions[action].by != party:
            raise EscrowInvalid(
                f"{where}.gives[{j}]",
                f"{action!r} is {actions[action].by}'s to give, not {party}'s",
            )
    requires = None
    if raw.get("requires") is not None:
        requires = _condition(raw["requires"], f"{where}.requires", actions)
    terms = tuple(
        _term(t, f"{where}.terms[{j}]", actions) for j, t in enumerate(_list(raw, "terms", where))
    )
    for j, term in enumerate(terms):
        if not term.demand and term.action not in gives:
            raise EscrowInvalid(f"{where}.terms[{j}]", "an offered term must be for a given action")
    return Commitment(
        id=_text(raw, "id", where),
        party=party,
        gives=gives,
        requires=requires,
        not_before=_action_list(raw.get("not_before", []), f"{where}.not_before", actions),
        terms=terms,
        description=_text(raw, "description", where, required=False),
        expires=_time(raw, "expires", where),
    )


def _time(raw: Mapping[str, Any], key: str, where: str) -> datetime | None:
    """An optional ISO 8601 time with its UTC offset (a time without one means nothing)."""
    if key not in raw:
        return None
    value = raw[key]
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        raise EscrowInvalid(
            f"{where}.{key}", "must be an ISO 8601 time with its offset, e.g. 2024-01-31T12:00Z"
        )
    return parsed


def _condition(raw: Any, where: str, actions: Mapping[str, Action]) -> Condition:
    if isinstance(raw, str):
        if raw not in actions:
            raise EscrowInvalid(where, f"{raw!r} is not a declared action")
        return Need(raw)
    if isinstance(raw, dict) and len(raw) == 1:
        ((kind, parts),) = raw.items()
        if kind in {"all", "any"} and isinstance(parts, list) and parts:
            inner = tuple(
                _condition(p, f"{where}.{kind}[{i}]", actions) for i, p in enumerate(parts)
            )
            return AllOf(inner) if kind == "all" else AnyOf(inner)
    raise EscrowInvalid(where, 'must be an action id, {"all": [...]} or {"any": [...]}')


def _term(raw: Any, where: str, actions: Mapping[str, Action]) -> Term:
    _fields(raw, where, {"action", "term", "offer", "demand"})
    kinds = [k for k in ("offer", "demand") if k in raw]
    if len(kinds) != 1:
        raise EscrowInvalid(where, 'needs exactly one of "offer" or "demand"')
    action = _text(raw, "action", where)
    if action not in actions:
        raise EscrowInvalid(f"{where}.action", f"{action!r} is not a declared action")
    span = raw[kinds[0]]
    _fields(span, f"{where}.{kinds[0]}", {"min", "max"})
    low = _number(span.get("min", -math.inf), f"{where}.{kinds[0]}.min")
    high = _number(span.get("max", math.inf), f"{where}.{kinds[0]}.max")
    if low > high:
        raise EscrowInvalid(f"{where}.{kinds[0]}", "min is greater than max")
    return Term(action, _text(raw, "term", where), low, high, demand=kinds[0] == "demand")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise EscrowInvalid(where, "must be a number")
    return float(value)


def _fields(raw: Any, where: str, allowed: set[str]) -> None:
    if not isinstance(raw, dict):
        raise EscrowInvalid(where, "must be an object")
    for key in raw:
        if key not in allowed:
            raise EscrowInvalid(f"{where}.{key}", "is not a known field")


def _list(raw: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise EscrowInvalid(f"{where}.{key}" if where else key, "must be a list")
    return value


def _text(raw: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    if key not in raw:
        if required:
            raise EscrowInvalid(f"{where}.{key}", "is missing")
        return ""
    value = raw[key]
    if not isinstance(value, str) or (required and not value):
        raise EscrowInvalid(f"{where}.{key}", "must be a non-empty string")
    return value


def _action_list(raw: Any, where: str, actions: Mapping[str, Action]) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise EscrowInvalid(where, "must be a list of action ids")
    for i, action in enumerate(raw):
        if not isinstance(action, str) or action not in actions:
            raise EscrowInvalid(f"{where}[{i}]", f"{action!r} is not a declared action")
    return tuple(raw)


def _known_party(parties: list[str], party: str, where: str) -> None:
    if parties and party not in parties:
        raise EscrowInvalid(where, f"{party!r} is not one of the parties")
