"""Adjusted Winner: envy-free, equitable and efficient on random point allocations."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel.engine import analysis as an
from backchannel.errors import ProblemInvalid


@st.composite
def allocations(draw) -> an.Problem:
    """Two parties each spreading 100 integer points over 2-7 issues."""
    n = draw(st.integers(2, 7))

    def spread() -> list[int]:
        cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=n - 1, max_size=n - 1)))
        return [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]

    issues = [{"id": f"i{k}", "options": ["divisible"]} for k in range(n)]
    a, b = spread(), spread()
    return an.parse(
        {
            "issues": issues,
            "parties": [
                {"id": "a", "points": {f"i{k}": a[k] for k in range(n)}},
                {"id": "b", "points": {f"i{k}": b[k] for k in range(n)}},
            ],
        },
        points=True,
    )


def valuations(problem: an.Problem, division: an.Division):
    pa = {i: Fraction(str(v)) for i, v in problem.parties[0].points.items()}
    pb = {i: Fraction(str(v)) for i, v in problem.parties[1].points.items()}
    return pa, pb


@given(allocations())
def test_equitable_and_envy_free(problem: an.Problem) -> None:
    """Both get the same number of their own points, and neither prefers the other's share."""
    division = an.adjusted_winner(problem)
    pa, pb = valuations(problem, division)
    a_own = sum(pa[i] * s[0] for i, s in division.shares.items())
    b_own = sum(pb[i] * s[1] for i, s in division.shares.items())
    assert a_own == b_own == division.totals[0] == division.totals[1]
    assert a_own >= sum(pa[i] * s[1] for i, s in division.shares.items())
    assert b_own >= sum(pb[i] * s[0] for i, s in division.shares.items())
    assert all(s[0] + s[1] == 1 and 0 <= s[0] <= 1 for s in division.shares.values())


@given(allocations())
def test_efficient(problem: an.Problem) -> None:
    """At most one issue is split, and a ratio threshold separates what each party holds."""
    division = an.adjusted_winner(problem)
    pa, pb = valuations(problem, division)
    split = [i for i, s in division.shares.items() if 0 < s[0] < 1]
    assert len(split) <= 1 and (split[0] if split else None) == division.split

    # Efficiency for two parties: every issue a holds (even partly) it values, relative to b, at
    # least as much as every issue b holds (even partly).
    def ratio(i):
        return (pa[i], pb[i])

    a_side = [i for i, s in division.shares.items() if s[0] > 0]
    b_side = [i for i, s in division.shares.items() if s[1] > 0]
    for i in a_side:
        for j in b_side:
            # pa[i]/pb[i] >= pa[j]/pb[j], cross-multiplied to allow zeros.
            assert pa[i] * pb[j] >= pa[j] * pb[i]


def test_needs_points_and_two_parties() -> None:
    """A problem without points, or with three parties, is refused with a clear reason."""
    issues = [{"id": "x", "options": ["d"]}]
    with pytest.raises(ProblemInvalid, match="sum to 100"):
        an.parse(
            {
                "issues": issues,
                "parties": [{"id": "a", "points": {"x": 90}}, {"id": "b", "points": {"x": 100}}],
            },
            points=True,
        )
    three = an.parse(
        {"issues": issues, "parties": [{"id": p, "points": {"x": 100}} for p in "abc"]}, points=True
    )
    with pytest.raises(ProblemInvalid, match="exactly two"):
        an.adjusted_winner(three)
