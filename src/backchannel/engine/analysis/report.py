"""The analysis as one JSON-ready value: what ``backchannel analyze --json`` prints.

Both the CLI and the web app's Analysis page answer with these shapes, so they are built here,
once, from the engine's values (``docs/analysis.md`` lists the keys). Numbers that JSON cannot
carry exactly are strings: Adjusted Winner's fractions (``"4/9"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backchannel.engine.analysis.adjusted_winner import Division
from backchannel.engine.analysis.bargaining import Solutions, improvements
from backchannel.engine.analysis.frontier import Frontier, Point
from backchannel.engine.analysis.problem import Problem
from backchannel.engine.analysis.trades import trades


def point_json(point: Point | None) -> dict[str, Any] | None:
    """A frontier point: its utilities, one package reaching them and how many do."""
    if point is None:
        return None
    return {"utilities": list(point.utilities), "package": point.package, "count": point.count}


def report(
    problem: Problem,
    frontier: Frontier,
    solutions: Solutions,
    agreement: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The frontier, the fair points and the trades; with ``agreement``, what improves on it."""
    result: dict[str, Any] = {
        "parties": problem.party_ids,
        "reservations": [p.reservation for p in problem.parties],
        "size": frontier.size,
        "method": frontier.method,
        "frontier": [point_json(p) for p in frontier.points],
        "nash": point_json(solutions.nash),
        "kalai_smorodinsky": point_json(solutions.kalai_smorodinsky),
        "egalitarian": point_json(solutions.egalitarian),
        "max_joint_gain": point_json(solutions.max_joint_gain),
        "no_zopa": solutions.no_zopa,
        "trades": [
            {
                "parties": list(t.parties),
                "issues": list(t.issues),
                "score": round(t.score, 6),
                "meaning": f"{t.parties[0]} cares relatively more about {t.issues[0]}, "
                f"{t.parties[1]} about {t.issues[1]}: each concedes the other",
            }
            for t in trades(problem)
        ],
    }
    if agreement is not None:
        utilities = problem.utility(agreement)
        result["from"] = {"package": dict(agreement), "utilities": utilities}
        result["improvements"] = [point_json(p) for p in improvements(frontier, utilities)]
    return result


def division_json(division: Division) -> dict[str, Any]:
    """An Adjusted Winner division: each party's share of each issue, the split, the points."""
    first, second = division.parties
    return {
        "method": "adjusted-winner",
        "parties": [first, second],
        "allocation": {
            issue: {first: float(a), second: float(b)} for issue, (a, b) in division.shares.items()
        },
        "split": None
        if division.split is None
        else {
            "issue": division.split,
            "fraction_to": {
                first: str(division.shares[division.split][0]),
                second: str(division.shares[division.split][1]),
            },
        },
        "points": {first: float(division.totals[0]), second: float(division.totals[1])},
        "exact_points": str(division.totals[0]),
    }
