"""The Analysis page's API: a negotiation problem in, what ``backchannel analyze --json`` prints.

    POST /api/analysis   {problem: <a problem file's object>, method: "pareto"|"adjusted-winner"}

The problem is the documented file format (``docs/analysis.md``), sent as a JSON object instead of
read from a file; the answer is the CLI's very object (:func:`engine.analysis.report` or
:func:`engine.analysis.division_json`), so the page and ``analyze --json`` never disagree. Nothing
is stored and nothing reaches the host: the computation is pure and runs in a worker thread. A
malformed problem is a :class:`ProblemInvalid` (``analysis.invalid``, 400) naming the field path,
exactly as the CLI names it; no partial result is sent.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from backchannel.engine import analysis as an
from backchannel.errors import FormInvalid, ProblemInvalid
from backchannel.ui.api import form_action
from backchannel.ui.forms import json_object

PARETO = "pareto"
ADJUSTED_WINNER = "adjusted-winner"
#: What the page may ask for, as ``analyze --method`` names it.
METHODS = (PARETO, ADJUSTED_WINNER)


def routes() -> list[Route]:
    """The page's route."""

    return [form_action("/api/analysis", parse_request, lambda form: analyse(*form))]


def parse_request(body: bytes) -> tuple[dict[str, Any], str]:
    """The problem object and the method; the problem's own fields are checked by the engine."""
    data = json_object(body, ("problem", "method"))
    method = data.get("method") or PARETO
    if method not in METHODS:
        raise FormInvalid("method", f"choose one of {', '.join(METHODS)}")
    problem = data.get("problem")
    if not isinstance(problem, dict):
        raise ProblemInvalid("problem", "must be an object: a problem file (docs/analysis.md)")
    return problem, method


def analyse(data: dict[str, Any], method: str) -> dict[str, Any]:
    """What ``backchannel analyze --json [--method adjusted-winner]`` prints for ``data``."""
    problem = an.parse(data, points=method == ADJUSTED_WINNER)
    if method == ADJUSTED_WINNER:
        return an.division_json(an.adjusted_winner(problem))
    try:
        frontier = an.pareto_frontier(problem)
    except ValueError as exc:  # utilities too large for the exact grid
        raise ProblemInvalid("parties", str(exc)) from exc
    return an.report(problem, frontier, an.solve(problem, frontier))
