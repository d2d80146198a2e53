"""Adjusted Winner (Brams and Taylor): two parties split divisible issues fairly, exactly.

Each party distributes 100 points over the issues. Every issue first goes to the party that values
it more. The party ahead in points (by its own count) then hands issues to the other, starting with
those it values least relative to the other (smallest ratio of its points to the other's), until
the totals would cross; that one issue is split so the totals are equal. The result is
**envy-free** (each values its share at least as much as the other's), **equitable** (both get the
same number of their own points) and **efficient** (no other division is better for one without
being worse for the other). Arithmetic is exact (:class:`fractions.Fraction`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from backchannel.engine.analysis.problem import Problem
from backchannel.errors import ProblemInvalid


@dataclass(frozen=True, slots=True)
class Division:
    """Who gets what share of each issue, the one split issue, and each party's own points."""

    parties: tuple[str, str]
    shares: dict[str, tuple[Fraction, Fraction]]  # issue → (share of first, share of second)
    split: str | None
    totals: tuple[Fraction, Fraction]

    def fraction_to(self, issue: str, party: int) -> Fraction:
        """The share of ``issue`` that party 0 or 1 receives."""
        return self.shares[issue][party]


def adjusted_winner(problem: Problem) -> Division:
    """Divide the problem's issues between its two parties by Adjusted Winner."""
    if len(problem.parties) != 2:
        raise ProblemInvalid("parties", "Adjusted Winner divides between exactly two parties")
    a, b = problem.parties
    if a.points is None or b.points is None:
        raise ProblemInvalid("parties", 'Adjusted Winner needs "points" per issue for each party')
    pa = {i: Fraction(str(v)) for i, v in a.points.items()}
    pb = {i: Fraction(str(v)) for i, v in b.points.items()}
    issues = [issue.id for issue in problem.issues]
    # Initial winner of each issue; ties go to the first party (the adjustment balances them).
    owner = {i: 0 if pa[i] >= pb[i] else 1 for i in issues}
    share = {i: Fraction(1) if owner[i] == 0 else Fraction(0) for i in issues}  # share of a

    def totals() -> tuple[Fraction, Fraction]:
        return (
            sum((pa[i] * share[i] for i in issues), Fraction(0)),
            sum((pb[i] * (1 - share[i]) for i in issues), Fraction(0)),
        )

    ta, tb = totals()
    split = None
    if ta != tb:
        ahead = 0 if ta > tb else 1
        mine, theirs = (pa, pb) if ahead == 0 else (pb, pa)
        held = [i for i in issues if owner[i] == ahead]
        # Hand over what the leader values least relative to the other first.
        held.sort(key=lambda i: (mine[i] / theirs[i] if theirs[i] else Fraction(10**12), i))
        for issue in held:
            lead, behind = (ta, tb) if ahead == 0 else (tb, ta)
            if lead == behind:
                break
            whole_gap = lead - mine[issue] - (behind + theirs[issue])
            if whole_gap >= 0:
                share[issue] = Fraction(0) if ahead == 0 else Fraction(1)
                ta, tb = totals()
                continue
            # Give away the fraction f of this issue that makes the totals equal.
            f = (lead - behind) / (mine[issue] + theirs[issue])
            share[issue] = 1 - f if ahead == 0 else f
            split = issue
            ta, tb = totals()
            break
    shares = {i: (share[i], 1 - share[i]) for i in issues}
    return Division((a.party, b.party), shares, split, (ta, tb))
