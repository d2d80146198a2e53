"""The exact Pareto frontier of an additive problem, built issue by issue, never enumerated.

With additive utilities a package's utility vector is the sum of one point per issue, so the set
of all utility vectors is the Minkowski sum of the per-issue point sets. If a partial sum ``x`` is
dominated by ``y``, then ``x + rest`` is dominated by ``y + rest`` for every completion, so
dominated partial sums can be dropped after each issue without losing any frontier point — and,
since a dropped partial sum can never complete to a vector *equal* to a frontier vector (``y +
rest`` would dominate it), without losing any package that reaches one. Equal partial sums are
merged and their counts added, so the count of each frontier vector is exact.

Numbers: each issue's contribution ``weight × value`` is rounded once to a grid of 1e-9 and kept as
an integer, so every sum after that is exact integer arithmetic; utilities within 1e-9 of each other
fall on the same grid point and count as equal. Counts are Python integers (10^20 packages do not
fit in 64 bits).

Constraints (forbidden option pairs) tie issues together: the issues linked by constraints are
fused into one block whose options are their allowed combinations, enumerated; the Minkowski
pruning then runs over blocks. This is exact, and costs the product of the fused issues' option
counts, so it stays fast while constrained issues are few.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from backchannel.engine.analysis.problem import Problem

#: Utilities within this distance are the same point.
GRID = 1e-9
_LIMIT = 9e9  # int64 holds |utility| / GRID up to ~9.2e18

Keys = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Block:
    """One or more issues decided together, and the allowed combinations of their options."""

    issues: tuple[str, ...]
    choices: tuple[tuple[str, ...], ...]
    keys: Keys  # (len(choices), parties) contributions in grid units


@dataclass(frozen=True, slots=True)
class Point:
    """A frontier point: its utilities, one package that reaches it, and how many do."""

    utilities: tuple[float, ...]
    package: dict[str, str]
    count: int


@dataclass(frozen=True, slots=True)
class Frontier:
    """The frontier, sorted by the first party's utility descending, and the space's size."""

    points: tuple[Point, ...]
    size: int
    method: str


def blocks(problem: Problem) -> list[Block]:
    """The problem's issues grouped into independent blocks (constraints fuse issues)."""
    parent = {issue.id: issue.id for issue in problem.issues}

    def root(issue: str) -> str:
        while parent[issue] != issue:
            issue = parent[issue]
        return issue

    for forbidden in problem.constraints:
        parent[root(forbidden.first[0])] = root(forbidden.second[0])
    groups: dict[str, list[str]] = {}
    for issue in problem.issues:
        groups.setdefault(root(issue.id), []).append(issue.id)
    options = {issue.id: issue.options for issue in problem.issues}
    result = []
    for members in groups.values():
        choices = [
            combo
            for combo in itertools.product(*(options[i] for i in members))
            if problem.allows(dict(zip(members, combo, strict=True)))
        ]
        utilities = np.array(
            [
                [
                    sum(p.weights[i] * p.values[i][o] for i, o in zip(members, combo, strict=True))
                    for p in problem.parties
                ]
                for combo in choices
            ],
            dtype=np.float64,
        ).reshape(len(choices), len(problem.parties))
        if utilities.size and np.abs(utilities).max() > _LIMIT / len(problem.issues):
            raise ValueError("utilities too large for the 1e-9 grid (|utility| must stay < 9e9)")
        keys = np.rint(utilities / GRID).astype(np.int64)
        result.append(Block(tuple(members), tuple(choices), keys))
    return result


def size(problem: Problem) -> int:
    """How many packages the problem allows (exact, however large)."""
    return math.prod(len(b.choices) for b in blocks(problem))


def pareto_frontier(problem: Problem) -> Frontier:
    """The exact frontier: one entry per distinct utility vector (see the module docstring)."""
    parts = blocks(problem)
    total = math.prod(len(b.choices) for b in parts)
    method = "minkowski" if not problem.constraints else "minkowski over fused constrained issues"
    if total == 0:
        return Frontier((), 0, method)
    keys = np.zeros((1, len(problem.parties)), dtype=np.int64)
    counts = np.array([1], dtype=object)
    trail: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
    for block in parts:
        width = len(block.choices)
        candidates = (keys[:, None, :] + block.keys[None, :, :]).reshape(-1, keys.shape[1])
        previous = np.repeat(np.arange(len(keys)), width)
        choice = np.tile(np.arange(width), len(keys))
        keys, counts, chosen = _merge_and_prune(candidates, np.repeat(counts, width))
        trail.append((previous[chosen], choice[chosen]))
    points = []
    for row in range(len(keys)):
        package: dict[str, str] = {}
        at = row
        for block, (previous, choice) in zip(reversed(parts), reversed(trail), strict=True):
            package.update(zip(block.issues, block.choices[choice[at]], strict=True))
            at = previous[at]
        ordered = {issue.id: package[issue.id] for issue in problem.issues}
        utilities = tuple(problem.utility(ordered))
        points.append(Point(utilities, ordered, int(counts[row])))
    return Frontier(tuple(points), total, method)


def _merge_and_prune(
    keys: Keys, counts: npt.NDArray[np.object_]
) -> tuple[Keys, npt.NDArray[np.object_], npt.NDArray[np.intp]]:
    """Merge equal vectors (adding counts), drop dominated ones; sorted by utilities descending."""
    order = np.lexsort(tuple(-keys[:, j] for j in reversed(range(keys.shape[1]))))
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)])
    unique = ordered[starts]
    merged = np.add.reduceat(counts[order], starts)
    if unique.shape[1] == 2:
        # Sorted by the first utility descending (then the second): a point survives only if its
        # second utility beats every earlier point's, all of which are as good on the first.
        best_before = np.maximum.accumulate(np.r_[np.iinfo(np.int64).min, unique[:-1, 1]])
        keep = unique[:, 1] > best_before
    else:
        keep = _nondominated(unique)
    return unique[keep], merged[keep], order[starts][keep]


def _nondominated(unique: Keys) -> npt.NDArray[np.bool_]:
    """For rows sorted lexicographically descending and distinct: which no other row dominates."""
    keep = np.zeros(len(unique), dtype=bool)
    kept: list[int] = []
    for row in range(len(unique)):
        # Only rows earlier in the order can dominate this one; distinct rows, so >= is enough.
        if kept and np.any(np.all(unique[kept] >= unique[row], axis=1)):
            continue
        keep[row] = True
        kept.append(row)
    return keep
