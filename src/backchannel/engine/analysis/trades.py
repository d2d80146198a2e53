"""Trading opportunities: pairs of issues the parties weigh most differently.

Log-rolling pays when one party cares relatively more about issue *i* and the other about issue
*j*: each concedes what it values less. For two parties *a*, *b* and issues *i*, *j* the measure
is the log of the ratio of their exchange rates,

    score = | ln(w_a(i) / w_a(j)) − ln(w_b(i) / w_b(j)) |

(weights normalised per party, with a small floor so a zero weight does not divide by zero). A
score of 0 means both trade the issues at the same rate, so there is nothing to gain; the larger
the score, the more a swap of concessions gains both. With three or more parties every pair is
considered.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

from backchannel.engine.analysis.problem import Problem

_FLOOR = 1e-6


@dataclass(frozen=True, slots=True)
class Trade:
    """Party ``gives_first`` concedes on ``issues[1]`` for ``issues[0]``; the other the reverse."""

    parties: tuple[str, str]
    issues: tuple[str, str]
    score: float


def trades(problem: Problem, limit: int = 5) -> list[Trade]:
    """The ``limit`` issue pairs where log-rolling pays most, best first."""
    found: list[Trade] = []
    for a, b in itertools.combinations(problem.parties, 2):
        wa = _normalised(a.weights)
        wb = _normalised(b.weights)
        for i, j in itertools.combinations([issue.id for issue in problem.issues], 2):
            lean = math.log(wa[i] / wa[j]) - math.log(wb[i] / wb[j])
            if abs(lean) < 1e-9:
                continue
            # Orient the pair so that the first party cares relatively more about the first issue.
            first, second = (i, j) if lean > 0 else (j, i)
            found.append(Trade((a.party, b.party), (first, second), abs(lean)))
    found.sort(key=lambda t: (-t.score, t.parties, t.issues))
    return found[:limit]


def _normalised(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(abs(w) for w in weights.values()) or 1.0
    return {k: max(abs(w) / total, _FLOOR) for k, w in weights.items()}
