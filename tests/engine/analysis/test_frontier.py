"""Frontier, fair points and improvements against brute-force enumeration of small problems."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.engine import analysis as an

TOL = 1e-6


@st.composite
def problems(draw, parties: int | None = None, constraints: bool = True) -> an.Problem:
    """Small random problems; values are small integers so ties happen often."""
    n_parties = parties or draw(st.integers(2, 3))
    n_issues = draw(st.integers(1, 4))
    issues = [
        {"id": f"i{i}", "options": [f"o{j}" for j in range(draw(st.integers(1, 4)))]}
        for i in range(n_issues)
    ]
    small = st.integers(0, 4)
    document = {
        "issues": issues,
        "parties": [
            {
                "id": f"p{k}",
                "weights": {i["id"]: draw(st.sampled_from([0.5, 1, 2, 3])) for i in issues},
                "values": {i["id"]: {o: draw(small) for o in i["options"]} for i in issues},
                "reservation": draw(st.integers(0, 12)),
            }
            for k in range(n_parties)
        ],
    }
    if constraints and n_issues > 1 and draw(st.booleans()):
        pairs = []
        for _ in range(draw(st.integers(1, 3))):
            a, b = draw(
                st.lists(
                    st.sampled_from(issues), min_size=2, max_size=2, unique_by=lambda i: i["id"]
                )
            )
            pairs.append(
                {
                    "a": {"issue": a["id"], "option": draw(st.sampled_from(a["options"]))},
                    "b": {"issue": b["id"], "option": draw(st.sampled_from(b["options"]))},
                }
            )
        document["constraints"] = pairs
    return an.parse(document)


def enumerate_all(problem: an.Problem) -> list[tuple[dict[str, str], tuple[float, ...]]]:
    """Every allowed package and its utilities."""
    names = [i.id for i in problem.issues]
    found = []
    for combo in itertools.product(*(i.options for i in problem.issues)):
        package = dict(zip(names, combo, strict=True))
        if problem.allows(package):
            found.append((package, tuple(problem.utility(package))))
    return found


def key(utilities) -> tuple[float, ...]:
    return tuple(round(u, 6) for u in utilities)


def brute_frontier(everything) -> dict[tuple[float, ...], int]:
    vectors = [key(u) for _, u in everything]
    distinct = set(vectors)
    front = {
        v
        for v in distinct
        if not any(all(a >= b for a, b in zip(w, v, strict=True)) and w != v for w in distinct)
    }
    return {v: vectors.count(v) for v in front}


@settings(max_examples=300)
@given(problems())
def test_frontier_equals_brute_force(problem: an.Problem) -> None:
    """Same distinct vectors, same counts, same size; each witness reaches its vector."""
    frontier = an.pareto_frontier(problem)
    everything = enumerate_all(problem)
    assert frontier.size == len(everything)
    assert {key(p.utilities): p.count for p in frontier.points} == brute_frontier(everything)
    for point in frontier.points:
        assert problem.allows(point.package)
        assert key(problem.utility(point.package)) == key(point.utilities)
    firsts = [p.utilities[0] for p in frontier.points]
    assert firsts == sorted(firsts, reverse=True)


def objective_max(problem, everything, score, acceptable_only):
    gains = [
        [u - p.reservation for u, p in zip(util, problem.parties, strict=True)]
        for _, util in everything
    ]
    pool = [g for g in gains if not acceptable_only or min(g) >= -1e-9]
    return max((score(g) for g in pool), default=None)


@settings(max_examples=300)
@given(problems())
def test_solutions_equal_brute_force(problem: an.Problem) -> None:
    """Nash, KS, egalitarian and max joint gain reach the brute-force optimum of their objective."""
    frontier = an.pareto_frontier(problem)
    solutions = an.solve(problem, frontier)
    everything = enumerate_all(problem)
    acceptable = [
        u
        for _, u in everything
        if all(x - p.reservation >= -1e-9 for x, p in zip(u, problem.parties, strict=True))
    ]
    assert solutions.no_zopa == (not acceptable)
    if not everything:
        return
    egal = objective_max(problem, everything, min, acceptable_only=False)
    assert math.isclose(min(an.gains(problem, solutions.egalitarian)), egal, abs_tol=TOL)
    joint = max(sum(u) for _, u in everything)
    assert math.isclose(sum(solutions.max_joint_gain.utilities), joint, abs_tol=TOL)
    if not acceptable:
        assert solutions.nash is None and solutions.kalai_smorodinsky is None
        return
    nash = objective_max(problem, everything, math.prod, acceptable_only=True)
    assert math.isclose(
        math.prod(an.gains(problem, solutions.nash)), nash, rel_tol=1e-9, abs_tol=TOL
    )
    ideal = [max(u[i] - p.reservation for u in acceptable) for i, p in enumerate(problem.parties)]

    def ks(g):
        return min(x / b if b > 1e-9 else 1.0 for x, b in zip(g, ideal, strict=True))

    assert math.isclose(
        ks(an.gains(problem, solutions.kalai_smorodinsky)),
        objective_max(problem, everything, ks, acceptable_only=True),
        abs_tol=TOL,
    )


@settings(max_examples=150)
@given(problems(), st.data())
def test_improvements_dominate_the_agreement(problem: an.Problem, data) -> None:
    """Post-settlement improvements are exactly the frontier points dominating the agreement."""
    everything = enumerate_all(problem)
    if not everything:
        return
    _, utilities = data.draw(st.sampled_from(everything))
    found = {key(p.utilities) for p in an.improvements(an.pareto_frontier(problem), utilities)}
    expected = {
        v
        for v in brute_frontier(everything)
        if all(a >= b - TOL for a, b in zip(v, utilities, strict=True))
        and any(a > b + TOL for a, b in zip(v, utilities, strict=True))
    }
    assert found == expected


def test_twenty_issues_of_ten_options_is_exact() -> None:
    """10^20 packages: the size is exact, counts are integers, the extreme points are right."""
    issues = [{"id": f"i{i}", "options": [f"o{j}" for j in range(10)]} for i in range(20)]
    parties = [
        {
            "id": "a",
            "weights": {f"i{i}": 1 for i in range(20)},
            "values": {f"i{i}": {f"o{j}": j for j in range(10)} for i in range(20)},
        },
        {
            "id": "b",
            "weights": {f"i{i}": 1 for i in range(20)},
            "values": {f"i{i}": {f"o{j}": 9 - j for j in range(10)} for i in range(20)},
        },
    ]
    frontier = an.pareto_frontier(an.parse({"issues": issues, "parties": parties}))
    assert frontier.size == 10**20
    # Every package lies on the line a + b = 180: all are on the frontier, grouped by a's total.
    assert len(frontier.points) == 181
    assert sum(p.count for p in frontier.points) == 10**20
    assert frontier.points[0].utilities == (180.0, 0.0) and frontier.points[0].count == 1
