"""Pictures of an analysis: the Pareto frontier, every package when few enough, the reservation
lines and the Nash and Kalai–Smorodinsky points (matplotlib, PNG or SVG by the file's suffix)."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt

from backchannel.engine.analysis import Frontier, Problem, Solutions

#: Above this many packages only the frontier is drawn.
ALL_PACKAGES_LIMIT = 20_000


def draw(problem: Problem, frontier: Frontier, solutions: Solutions, path: Path) -> None:
    """Write the picture to ``path`` (``.png`` or ``.svg``); the first two parties' utilities."""
    names = problem.party_ids
    figure, axes = plt.subplots(figsize=(7, 5.5), dpi=120)
    if frontier.size <= ALL_PACKAGES_LIMIT:
        xs, ys = [], []
        for combo in itertools.product(*(issue.options for issue in problem.issues)):
            package = dict(zip((i.id for i in problem.issues), combo, strict=True))
            if problem.allows(package):
                u = problem.utility(package)
                xs.append(u[0])
                ys.append(u[1])
        axes.scatter(xs, ys, s=6, color="#b8c4d6", label="all packages", zorder=1)
    points = sorted(frontier.points, key=lambda p: p.utilities[0])
    axes.plot(
        [p.utilities[0] for p in points],
        [p.utilities[1] for p in points],
        "-o",
        color="#1f4e8c",
        markersize=4,
        label="Pareto frontier",
        zorder=2,
    )
    axes.axvline(problem.parties[0].reservation, color="#999", linestyle="--", linewidth=1)
    axes.axhline(problem.parties[1].reservation, color="#999", linestyle="--", linewidth=1)
    for point, label, colour, marker in (
        (solutions.nash, "Nash", "#c0392b", "*"),
        (solutions.kalai_smorodinsky, "Kalai–Smorodinsky", "#27864b", "D"),
    ):
        if point is not None:
            axes.scatter(
                [point.utilities[0]],
                [point.utilities[1]],
                s=140,
                marker=marker,
                color=colour,
                label=label,
                zorder=3,
            )
    title = "Pareto frontier"
    if len(names) > 2:
        title += f" (first two of {len(names)} parties shown)"
    axes.set_title(title)
    axes.set_xlabel(f"utility of {names[0]}")
    axes.set_ylabel(f"utility of {names[1]}")
    axes.legend(loc="lower left", fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
