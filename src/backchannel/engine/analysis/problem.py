"""Negotiation problems: issues with options, parties with additive preferences, constraints.

A package picks one option per issue; a party's utility for it is the sum over issues of its weight
for the issue times its value for the chosen option. Parsing is strict and names the field path of
anything wrong (``parties[1].values.ceasefire.full``), because problem files are written by hand.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backchannel.errors import ProblemInvalid


@dataclass(frozen=True, slots=True)
class Issue:
    """A subject of the negotiation and its possible settlements."""

    id: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Preferences:
    """One party's private scoring: a weight per issue, a value per option, a reservation."""

    party: str
    weights: Mapping[str, float]
    values: Mapping[str, Mapping[str, float]]
    reservation: float = 0.0
    points: Mapping[str, float] | None = None  # Adjusted Winner: points per issue, summing to 100


@dataclass(frozen=True, slots=True)
class Forbidden:
    """Two options that cannot be in the same package."""

    first: tuple[str, str]  # (issue, option)
    second: tuple[str, str]


@dataclass(frozen=True, slots=True)
class Problem:
    """A whole problem: issues, parties (in order), forbidden option pairs."""

    issues: tuple[Issue, ...]
    parties: tuple[Preferences, ...]
    constraints: tuple[Forbidden, ...] = ()

    @property
    def party_ids(self) -> list[str]:
        """The parties, in the file's order (utility vectors follow it)."""
        return [p.party for p in self.parties]

    def utility(self, package: Mapping[str, str]) -> list[float]:
        """Each party's utility for a package (one option per issue)."""
        return [
            sum(p.weights[i.id] * p.values[i.id][package[i.id]] for i in self.issues)
            for p in self.parties
        ]

    def allows(self, package: Mapping[str, str]) -> bool:
        """Whether a package avoids every forbidden pair."""
        return not any(
            package.get(f.first[0]) == f.first[1] and package.get(f.second[0]) == f.second[1]
            for f in self.constraints
        )


def loads(text: str) -> Problem:
    """Parse a problem file; broken JSON is reported with its line and column."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemInvalid(
            f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}"
        ) from exc
    return parse(data)


def parse(data: Any, *, points: bool = False) -> Problem:
    """Validate a decoded problem. With ``points``, parties give Adjusted Winner points instead."""
    if not isinstance(data, dict):
        raise ProblemInvalid("(top level)", "must be an object")
    for key in data:
        if key not in {"issues", "parties", "constraints", "title", "description"}:
            raise ProblemInvalid(key, "is not a field of a problem file")
    issues = _issues(data.get("issues"))
    parties = tuple(
        _party(raw, f"parties[{n}]", issues, points) for n, raw in enumerate(_list(data, "parties"))
    )
    if len(parties) < 2:
        raise ProblemInvalid("parties", "needs at least two parties")
    if len({p.party for p in parties}) != len(parties):
        raise ProblemInvalid("parties", "party ids must be distinct")
    constraints = tuple(
        _forbidden(raw, f"constraints[{n}]", issues)
        for n, raw in enumerate(_list(data, "constraints", required=False))
    )
    return Problem(issues, parties, constraints)


def _list(data: Mapping[str, Any], key: str, required: bool = True) -> list[Any]:
    value = data.get(key, None if required else [])
    if not isinstance(value, list):
        raise ProblemInvalid(key, "must be a list" if key in data or not required else "is missing")
    return value


def _issues(raw: Any) -> tuple[Issue, ...]:
    if not isinstance(raw, list) or not raw:
        raise ProblemInvalid("issues", "must be a non-empty list")
    issues: list[Issue] = []
    for n, entry in enumerate(raw):
        where = f"issues[{n}]"
        if not isinstance(entry, dict) or set(entry) - {"id", "options", "name"}:
            raise ProblemInvalid(where, 'must be an object with "id" and "options"')
        ident = entry.get("id")
        if not isinstance(ident, str) or not ident:
            raise ProblemInvalid(f"{where}.id", "must be a non-empty string")
        options = entry.get("options")
        if (
            not isinstance(options, list)
            or not options
            or not all(isinstance(o, str) and o for o in options)
            or len(set(options)) != len(options)
        ):
            raise ProblemInvalid(f"{where}.options", "must be a non-empty list of distinct strings")
        if any(i.id == ident for i in issues):
            raise ProblemInvalid(f"{where}.id", f"{ident!r} is used twice")
        issues.append(Issue(ident, tuple(options)))
    return tuple(issues)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProblemInvalid(where, "must be a finite number")
    return float(value)


def _party(raw: Any, where: str, issues: tuple[Issue, ...], points: bool) -> Preferences:
    # "note": a party's private remark, carried with its scores in the talks; not analysed.
    allowed = {"id", "name", "weights", "values", "reservation", "points", "note"}
    if not isinstance(raw, dict):
        raise ProblemInvalid(where, "must be an object")
    for key in raw:
        if key not in allowed:
            raise ProblemInvalid(f"{where}.{key}", "is not a field of a party")
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident:
        raise ProblemInvalid(f"{where}.id", "must be a non-empty string")
    if points:
        given = _table(raw, "points", where, issues)
        total = sum(given.values())
        if any(v < 0 for v in given.values()) or abs(total - 100) > 1e-9:
            raise ProblemInvalid(
                f"{where}.points", f"must be non-negative and sum to 100 ({total:g})"
            )
        return Preferences(ident, {}, {}, 0.0, given)
    weights = _table(raw, "weights", where, issues)
    values_raw = raw.get("values")
    if not isinstance(values_raw, dict):
        raise ProblemInvalid(f"{where}.values", "must be an object: issue → option → value")
    values: dict[str, dict[str, float]] = {}
    for issue in issues:
        per = values_raw.get(issue.id)
        if not isinstance(per, dict):
            raise ProblemInvalid(f"{where}.values.{issue.id}", "is missing (option → value)")
        for option in per:
            if option not in issue.options:
                raise ProblemInvalid(f"{where}.values.{issue.id}.{option}", "is not an option")
        values[issue.id] = {}
        for option in issue.options:
            if option not in per:
                raise ProblemInvalid(f"{where}.values.{issue.id}.{option}", "is missing")
            values[issue.id][option] = _number(per[option], f"{where}.values.{issue.id}.{option}")
    for key in values_raw:
        if key not in values:
            raise ProblemInvalid(f"{where}.values.{key}", "is not an issue")
    reservation = _number(raw.get("reservation", 0), f"{where}.reservation")
    return Preferences(ident, weights, values, reservation)


def _table(
    raw: Mapping[str, Any], key: str, where: str, issues: tuple[Issue, ...]
) -> dict[str, float]:
    table = raw.get(key)
    if not isinstance(table, dict):
        raise ProblemInvalid(f"{where}.{key}", "must be an object: issue → number")
    for name in table:
        if name not in {i.id for i in issues}:
            raise ProblemInvalid(f"{where}.{key}.{name}", "is not an issue")
    result: dict[str, float] = {}
    for issue in issues:
        if issue.id not in table:
            raise ProblemInvalid(f"{where}.{key}.{issue.id}", "is missing")
        result[issue.id] = _number(table[issue.id], f"{where}.{key}.{issue.id}")
    return result


def _forbidden(raw: Any, where: str, issues: tuple[Issue, ...]) -> Forbidden:
    if not isinstance(raw, dict) or set(raw) != {"a", "b"}:
        raise ProblemInvalid(where, 'must be {"a": {"issue", "option"}, "b": {"issue", "option"}}')
    sides = []
    for side in ("a", "b"):
        entry = raw[side]
        found = next(
            (i for i in issues if isinstance(entry, dict) and i.id == entry.get("issue")), None
        )
        if found is None:
            raise ProblemInvalid(f"{where}.{side}.issue", "is not an issue")
        if entry.get("option") not in found.options:
            raise ProblemInvalid(f"{where}.{side}.option", f"is not an option of {found.id}")
        sides.append((found.id, str(entry["option"])))
    if sides[0][0] == sides[1][0]:
        raise ProblemInvalid(where, "the two options must be of different issues")
    return Forbidden(sides[0], sides[1])
