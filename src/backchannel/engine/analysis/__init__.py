"""Negotiation analysis, exact at any scale: frontier, fair points, trades, Adjusted Winner.

Pure functions over :class:`Problem` values (see ``docs/analysis.md``); plotting and files live
outside the engine.
"""

from backchannel.engine.analysis.adjusted_winner import Division, adjusted_winner
from backchannel.engine.analysis.bargaining import Solutions, gains, improvements, solve
from backchannel.engine.analysis.frontier import GRID, Frontier, Point, pareto_frontier, size
from backchannel.engine.analysis.problem import Forbidden, Issue, Preferences, Problem, loads, parse
from backchannel.engine.analysis.report import division_json, point_json, report
from backchannel.engine.analysis.trades import Trade, trades

__all__ = [
    "GRID",
    "Division",
    "Forbidden",
    "Frontier",
    "Issue",
    "Point",
    "Preferences",
    "Problem",
    "Solutions",
    "Trade",
    "adjusted_winner",
    "division_json",
    "gains",
    "improvements",
    "loads",
    "pareto_frontier",
    "parse",
    "point_json",
    "report",
    "size",
    "solve",
    "trades",
]
