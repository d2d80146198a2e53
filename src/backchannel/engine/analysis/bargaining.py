"""Where a fair deal lies on the frontier: Nash, Kalai–Smorodinsky, egalitarian, max joint gain.

Every solution is a package on the Pareto frontier (each maximises a quantity that no dominated
package can beat), so all of them are read off :class:`Frontier` without enumeration. Gains are
measured from each party's reservation; a package is *acceptable* when every party gains at least
zero. When none is, there is no zone of possible agreement: Nash and Kalai–Smorodinsky are None.

- **Nash**: the acceptable package maximising the product of gains.
- **Kalai–Smorodinsky**: the acceptable package maximising the smallest gain as a share of that
  party's best acceptable gain (the discrete reading of "proportional to the ideal point").
- **Egalitarian**: the package maximising the smallest gain (acceptable or not).
- **Max joint gain**: the package maximising the sum of utilities.

Ties are broken by the sum of utilities, then by the frontier's order (first party's utility
descending), so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from backchannel.engine.analysis.frontier import GRID, Frontier, Point
from backchannel.engine.analysis.problem import Problem


@dataclass(frozen=True, slots=True)
class Solutions:
    """The notable points of a problem, each a frontier point or None."""

    nash: Point | None
    kalai_smorodinsky: Point | None
    egalitarian: Point | None
    max_joint_gain: Point | None
    no_zopa: bool


def gains(problem: Problem, point: Point) -> list[float]:
    """Each party's utility above its reservation."""
    return [u - p.reservation for u, p in zip(point.utilities, problem.parties, strict=True)]


def solve(problem: Problem, frontier: Frontier) -> Solutions:
    """Nash, Kalai–Smorodinsky, egalitarian and max-joint-gain points of the frontier."""
    points = list(frontier.points)
    acceptable = [p for p in points if min(gains(problem, p)) >= -GRID]
    nash = ks = None
    if acceptable:
        nash = _best(acceptable, lambda p: _product(gains(problem, p)))
        ideal = [max(gains(problem, p)[i] for p in acceptable) for i in range(len(problem.parties))]
        ks = _best(
            acceptable,
            lambda p: min(
                g / best if best > GRID else 1.0
                for g, best in zip(gains(problem, p), ideal, strict=True)
            ),
        )
    return Solutions(
        nash=nash,
        kalai_smorodinsky=ks,
        egalitarian=_best(points, lambda p: min(gains(problem, p))) if points else None,
        max_joint_gain=_best(points, lambda p: sum(p.utilities)) if points else None,
        no_zopa=not acceptable,
    )


def improvements(frontier: Frontier, utilities: Sequence[float]) -> list[Point]:
    """Frontier points at least as good for everyone as ``utilities`` and better for someone."""
    return [
        p
        for p in frontier.points
        if all(u >= v - GRID for u, v in zip(p.utilities, utilities, strict=True))
        and any(u > v + GRID for u, v in zip(p.utilities, utilities, strict=True))
    ]


def _product(values: Sequence[float]) -> float:
    result = 1.0
    for value in values:
        result *= max(value, 0.0)
    return result


def _best(points: Sequence[Point], score: Callable[[Point], float]) -> Point:
    best = points[0]
    best_key = (score(best), sum(best.utilities))
    for point in points[1:]:
        key = (score(point), sum(point.utilities))
        # Scores within the grid tolerance are ties, so float noise cannot pick the winner.
        if key[0] > best_key[0] + GRID or (
            abs(key[0] - best_key[0]) <= GRID and key[1] > best_key[1] + GRID
        ):
            best, best_key = point, key
    return best
