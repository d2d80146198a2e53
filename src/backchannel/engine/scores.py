"""The agenda to score and a party's scores: the two documents private preferences travel as.

Scoring is Inspire's: a party spreads **100 integer points** over the agenda's issues (how much
each matters to it) and gives each option of each issue a **value from 0 to 100** (how good that
settlement is for it). A package picks one option per issue; the party's utility for it is
``Σ points[issue] × value[issue][option] / 100``, from 0 to 100. Integers keep every device's
arithmetic exact and the form simple to fill in; an optional ``reservation`` (0–100) is the
utility the party gets without agreement, and an optional private ``note`` travels with the scores
to the same devices only.

Both documents are JSON text, parsed strictly here (pure; the engine's handlers are in
:mod:`.preferences`): anything wrong is a :class:`ScoresMalformed` naming the field path.

- agenda: ``{"issues": [{"id": "ceasefire", "name": "Gaza ceasefire", "options": ["none",
  "pause", "full"]}, ...]}``
- scores: ``{"party": "iran", "points": {"ceasefire": 60, ...}, "values": {"ceasefire":
  {"none": 0, "pause": 40, "full": 100}, ...}, "reservation": 20, "note": "..."}``
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backchannel.errors import ScoresMalformed

#: Bounds that keep an agenda one a person can score and every device can analyse at once.
MAX_ISSUES = 30
MAX_OPTIONS = 20
MAX_NOTE = 2000
MAX_ID = 64
#: What a party spreads over the issues.
TOTAL_POINTS = 100
#: The highest value an option can get (the lowest is 0).
MAX_VALUE = 100


@dataclass(frozen=True, slots=True)
class AgendaIssue:
    """An issue to score: its id, its name for people, and its options (in order)."""

    id: str
    options: tuple[str, ...]
    name: str = ""


@dataclass(frozen=True, slots=True)
class Agenda:
    """What the parties score: its issues in order, and the version (1, 2, …) it is."""

    issues: tuple[AgendaIssue, ...]
    version: int = 1

    def issue(self, issue_id: str) -> AgendaIssue | None:
        """The issue ``issue_id``, if the agenda has it."""
        return next((i for i in self.issues if i.id == issue_id), None)


@dataclass(frozen=True, slots=True)
class Scores:
    """One party's scoring of an agenda. ``repr`` names only the party: scores are private."""

    party: str
    points: Mapping[str, int]
    values: Mapping[str, Mapping[str, int]]
    reservation: int = 0
    note: str = ""

    def __repr__(self) -> str:
        return f"Scores(party={self.party!r}, ...)"

    def utility(self, package: Mapping[str, str]) -> float:
        """This party's utility (0–100) for a package: one option per issue scored."""
        total = sum(self.points[i] * self.values[i][package[i]] for i in self.points)
        return total / TOTAL_POINTS

    def to_json(self) -> dict[str, Any]:
        """The scores as the document they were parsed from (keys in agenda order)."""
        data: dict[str, Any] = {
            "party": self.party,
            "points": dict(self.points),
            "values": {i: dict(v) for i, v in self.values.items()},
        }
        if self.reservation:
            data["reservation"] = self.reservation
        if self.note:
            data["note"] = self.note
        return data


def _document(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ScoresMalformed(f"the {what} is not valid JSON") from None
    if not isinstance(data, dict):
        raise ScoresMalformed(f"the {what} must be a JSON object")
    return data


def _ident(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID:
        raise ScoresMalformed(f"{where} must be a non-empty string of at most {MAX_ID} characters")
    return value


def _extra(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise ScoresMalformed(f"{where}{key} is not a field here")


def parse_agenda(text: str, version: int = 1) -> Agenda:
    """The agenda ``text`` holds (see the module's header)."""
    data = _document(text, "agenda")
    _extra(data, {"issues"}, "")
    raw = data.get("issues")
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_ISSUES:
        raise ScoresMalformed(f"issues must be a list of 1 to {MAX_ISSUES} issues")
    issues: list[AgendaIssue] = []
    for n, entry in enumerate(raw):
        where = f"issues[{n}]"
        if not isinstance(entry, dict):
            raise ScoresMalformed(f'{where} must be an object with "id" and "options"')
        _extra(entry, {"id", "name", "options"}, f"{where}.")
        ident = _ident(entry.get("id"), f"{where}.id")
        if any(i.id == ident for i in issues):
            raise ScoresMalformed(f"{where}.id {ident!r} is used twice")
        options = entry.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
            raise ScoresMalformed(f"{where}.options must list 2 to {MAX_OPTIONS} options")
        named = tuple(_ident(o, f"{where}.options[{k}]") for k, o in enumerate(options))
        if len(set(named)) != len(named):
            raise ScoresMalformed(f"{where}.options must be distinct")
        name = entry.get("name", "")
        if not isinstance(name, str) or len(name) > MAX_NOTE:
            raise ScoresMalformed(f"{where}.name must be a string")
        issues.append(AgendaIssue(ident, named, name))
    return Agenda(tuple(issues), version)


def _integer(value: Any, where: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ScoresMalformed(f"{where} must be a whole number from 0 to {high}")
    return value


def parse_scores(text: str, agenda: Agenda) -> Scores:
    """The scores ``text`` holds, checked against ``agenda`` (see the module's header)."""
    data = _document(text, "scores")
    _extra(data, {"party", "points", "values", "reservation", "note"}, "")
    party = _ident(data.get("party"), "party")
    points_raw = data.get("points")
    values_raw = data.get("values")
    if not isinstance(points_raw, dict):
        raise ScoresMalformed("points must be an object: issue → points")
    if not isinstance(values_raw, dict):
        raise ScoresMalformed("values must be an object: issue → option → value")
    for key in (*points_raw, *values_raw):
        if agenda.issue(key) is None:
            raise ScoresMalformed(f"{key!r} is not an issue of the agenda")
    points: dict[str, int] = {}
    values: dict[str, dict[str, int]] = {}
    for issue in agenda.issues:
        if issue.id not in points_raw:
            raise ScoresMalformed(f"points.{issue.id} is missing")
        points[issue.id] = _integer(points_raw[issue.id], f"points.{issue.id}", TOTAL_POINTS)
        per = values_raw.get(issue.id)
        if not isinstance(per, dict):
            raise ScoresMalformed(f"values.{issue.id} is missing (option → value)")
        for option in per:
            if option not in issue.options:
                raise ScoresMalformed(f"{option!r} is not an option of {issue.id}")
        values[issue.id] = {}
        for option in issue.options:
            if option not in per:
                raise ScoresMalformed(f"values.{issue.id}.{option} is missing")
            where = f"values.{issue.id}.{option}"
            values[issue.id][option] = _integer(per[option], where, MAX_VALUE)
    total = sum(points.values())
    if total != TOTAL_POINTS:
        raise ScoresMalformed(f"the points must sum to {TOTAL_POINTS}, not {total}")
    reservation = _integer(data.get("reservation", 0), "reservation", MAX_VALUE)
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ScoresMalformed(f"note must be a string of at most {MAX_NOTE} characters")
    return Scores(party, points, values, reservation, note)


def dumps(scores: Mapping[str, Any]) -> str:
    """A scores or agenda document as the text an act carries (stable key order)."""
    return json.dumps(scores, ensure_ascii=False, sort_keys=True)


def from_problem(data: Any, party: str) -> dict[str, Any]:
    """``party``'s scores from a problem file of ``backchannel analyze`` (``docs/analysis.md``):
    its ``points`` if it gives them, else its ``weights`` scaled to 100 points (largest
    remainders), and its values rounded to whole numbers. The result still goes through
    :func:`parse_scores`: values outside 0–100 are refused there, not rescaled."""
    parties = data.get("parties") if isinstance(data, dict) else None
    entry = next((p for p in parties or [] if isinstance(p, dict) and p.get("id") == party), None)
    if entry is None:
        raise ScoresMalformed(f"the problem file holds no party {party!r}")
    given = entry.get("points") or entry.get("weights")
    if not isinstance(given, dict) or not given:
        raise ScoresMalformed(f"{party}'s entry gives neither points nor weights")
    try:
        weights = {k: float(v) for k, v in given.items()}
        values = {
            i: {o: round(float(v)) for o, v in per.items()}
            for i, per in (entry.get("values") or {}).items()
        }
        reservation = round(float(entry.get("reservation", 0)))
    except (TypeError, ValueError, AttributeError, OverflowError):
        raise ScoresMalformed(f"{party}'s entry holds a value that is not a number") from None
    scored: dict[str, Any] = {
        "party": party,
        "points": _hundred(weights),
        "values": values,
        "reservation": reservation,
    }
    if "note" in entry:
        scored["note"] = entry["note"]
    return scored


def _hundred(weights: Mapping[str, float]) -> dict[str, int]:
    """Non-negative weights as whole points summing to 100 (largest remainders)."""
    total = sum(weights.values())
    if not math.isfinite(total) or total <= 0 or any(w < 0 for w in weights.values()):
        raise ScoresMalformed("weights must be non-negative and not all zero")
    exact = {k: w * TOTAL_POINTS / total for k, w in weights.items()}
    points = {k: int(v) for k, v in exact.items()}
    short = TOTAL_POINTS - sum(points.values())
    for key in sorted(exact, key=lambda k: points[k] - exact[k])[:short]:
        points[key] += 1
    return points
