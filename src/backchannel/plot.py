"""Pictures of an analysis: the Pareto frontier, every package when few enough, the reservation
lines and the Nash and Kalai–Smorodinsky points (matplotlib, PNG or SVG by the file's suffix)."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from backchannel.engine.analysis import Frontier, Problem, Solutions

matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text: searchable, selectable

#: Above this many packages only the frontier is drawn.
ALL_PACKAGES_LIMIT = 20_000
#: At most this many pairs of parties are drawn (the first four parties' six pairs).
MAX_PANELS = 6


def draw(problem: Problem, frontier: Frontier, solutions: Solutions, path: Path) -> None:
    """Write the picture to ``path`` (``.png`` or ``.svg``).

    Two parties: their utilities, the frontier as a curve. More: one panel per pair of parties,
    frontier packages as points only: in three or more dimensions the frontier is no curve, and
    a line joining its projections would draw trade-offs that do not exist."""
    names = problem.party_ids
    pairs = list(itertools.combinations(range(len(names)), 2))[:MAX_PANELS]
    figure, grid = plt.subplots(
        1, len(pairs), figsize=(7 if len(pairs) == 1 else 4.6 * len(pairs), 5.5), dpi=120
    )
    panels = [grid] if len(pairs) == 1 else list(grid)
    every = _every_package(problem) if frontier.size <= ALL_PACKAGES_LIMIT else []
    for axes, (i, j) in zip(panels, pairs, strict=True):
        _panel(axes, problem, frontier, solutions, every, i, j, curve=len(names) == 2)
    if len(names) > 2:
        figure.suptitle(f"Pareto frontier of {len(names)} parties, two at a time (points only)")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _panel(
    axes: Axes,
    problem: Problem,
    frontier: Frontier,
    solutions: Solutions,
    every: list[tuple[float, ...]],
    i: int,
    j: int,
    *,
    curve: bool,
) -> None:
    """Parties ``i`` (across) and ``j`` (up) on one set of axes; ``every``: the utilities of
    every allowed package (empty above :data:`ALL_PACKAGES_LIMIT`)."""
    names = problem.party_ids
    if every:
        xs, ys = [u[i] for u in every], [u[j] for u in every]
        axes.scatter(xs, ys, s=6, color="#b8c4d6", label="all packages", zorder=1)
    points = sorted(frontier.points, key=lambda p: p.utilities[i])
    axes.plot(
        [p.utilities[i] for p in points],
        [p.utilities[j] for p in points],
        "-o" if curve else "o",
        color="#1f4e8c",
        markersize=4,
        label="Pareto frontier",
        zorder=2,
    )
    axes.axvline(problem.parties[i].reservation, color="#999", linestyle="--", linewidth=1)
    axes.axhline(problem.parties[j].reservation, color="#999", linestyle="--", linewidth=1)
    for point, label, colour, marker in (
        (solutions.nash, "Nash", "#c0392b", "*"),
        (solutions.kalai_smorodinsky, "Kalai–Smorodinsky", "#27864b", "D"),
    ):
        if point is not None:
            axes.scatter(
                [point.utilities[i]],
                [point.utilities[j]],
                s=140,
                marker=marker,
                color=colour,
                label=label,
                zorder=3,
            )
    axes.set_title("Pareto frontier" if curve else f"{names[i]} and {names[j]}")
    axes.set_xlabel(f"utility of {names[i]}")
    axes.set_ylabel(f"utility of {names[j]}")
    axes.legend(loc="lower left", fontsize=8)
    axes.grid(alpha=0.3)


def _every_package(problem: Problem) -> list[tuple[float, ...]]:
    """The utilities of every allowed package, computed once for all the panels."""
    found = []
    for combo in itertools.product(*(issue.options for issue in problem.issues)):
        package = dict(zip((k.id for k in problem.issues), combo, strict=True))
        if problem.allows(package):
            found.append(tuple(problem.utility(package)))
    return found
