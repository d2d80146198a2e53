"""``backchannel analyze FILE``: the frontier and fair points of a problem; Adjusted Winner."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from backchannel.cli.app import EXIT_OK, app, console, emit_json, fail
from backchannel.engine import analysis as an
from backchannel.errors import ProblemInvalid


class Method(StrEnum):
    """What to compute."""

    PARETO = "pareto"
    ADJUSTED_WINNER = "adjusted-winner"


@app.command()
def analyze(
    file: Path = typer.Argument(..., help="A problem file (JSON, see docs/analysis.md)."),
    method: Method | None = typer.Option(
        None,
        "--method",
        help="pareto or adjusted-winner (default: adjusted-winner when every party gives "
        "points, else pareto).",
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Draw the frontier to a .png or .svg."),
    from_package: str | None = typer.Option(
        None, "--from", help='A tentative agreement: JSON {"issue": "option"} or issue=option,...'
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Pareto frontier, Nash, Kalai–Smorodinsky, egalitarian and max-joint-gain packages."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        method = method or _method_of(data)
        problem = an.parse(data, points=method is Method.ADJUSTED_WINNER)
        if method is Method.ADJUSTED_WINNER:
            if plot is not None:
                raise ProblemInvalid(
                    "--plot",
                    "Adjusted Winner divides issues between two parties and has no frontier to "
                    "draw; leave out --plot (or analyse a problem with weights and reservations)",
                )
            division = an.adjusted_winner(problem)
        else:
            agreement = _package(problem, from_package) if from_package else None
            if plot is not None and plot.suffix.lower() not in {".png", ".svg"}:
                raise ProblemInvalid("--plot", "must end in .png or .svg")
    except json.JSONDecodeError as exc:
        fail(
            ProblemInvalid(f"{file}: line {exc.lineno}, column {exc.colno}", exc.msg),
            as_json=as_json,
        )
    except OSError as exc:
        fail(ProblemInvalid(str(file), f"cannot read the file ({exc.strerror})"), as_json=as_json)
    except ProblemInvalid as exc:
        exc.message = f"{file}: {exc.message}"
        fail(exc, as_json=as_json)
    if method is Method.ADJUSTED_WINNER:
        result = an.division_json(division)
        if as_json:
            emit_json(result)
        else:
            _print_division(result)
        raise typer.Exit(EXIT_OK)
    frontier = an.pareto_frontier(problem)
    solutions = an.solve(problem, frontier)
    result = an.report(problem, frontier, solutions, agreement)
    if plot is not None:
        from backchannel.plot import draw

        draw(problem, frontier, solutions, plot)
        result["plot"] = str(plot)
    if as_json:
        emit_json(result)
    else:
        _print(result)
        if plot is not None:
            console.print(f"Plot written to {plot}")
    raise typer.Exit(EXIT_OK)


def _method_of(data: Any) -> Method:
    """Adjusted Winner when every party gives points and none gives weights: the file says it."""
    parties = data.get("parties") if isinstance(data, dict) else None
    if (
        isinstance(parties, list)
        and parties
        and all(isinstance(p, dict) and "points" in p and "weights" not in p for p in parties)
    ):
        return Method.ADJUSTED_WINNER
    return Method.PARETO


def _package(problem: an.Problem, text: str) -> dict[str, str]:
    try:
        raw = (
            json.loads(text)
            if text.lstrip().startswith("{")
            else dict(part.split("=", 1) for part in text.split(",") if part.strip())
        )
    except (ValueError, json.JSONDecodeError) as exc:
        raise ProblemInvalid("--from", "must be JSON or issue=option,issue=option") from exc
    package: dict[str, str] = {}
    for issue in problem.issues:
        option = raw.get(issue.id)
        if option not in issue.options:
            raise ProblemInvalid(f"--from.{issue.id}", f"needs one of {', '.join(issue.options)}")
        package[issue.id] = option
    if set(raw) - set(package):
        raise ProblemInvalid("--from", f"unknown issue {sorted(set(raw) - set(package))[0]!r}")
    return package


def _print(result: dict[str, Any]) -> None:
    parties = result["parties"]
    console.rule(
        f"[bold]{result['size']:,} packages[/] — {len(result['frontier'])} on the frontier"
    )
    table = Table(*parties, "count", "package", title="Pareto frontier (first 15)")
    for point in result["frontier"][:15]:
        package = ", ".join(f"{k}={v}" for k, v in point["package"].items())
        table.add_row(*(f"{u:.4g}" for u in point["utilities"]), str(point["count"]), package)
    console.print(table)
    console.print(_sketch(result))
    solutions = Table("solution", *parties, "package", title="Where a deal could lie")
    for key, name in (
        ("nash", "Nash"),
        ("kalai_smorodinsky", "Kalai–Smorodinsky"),
        ("egalitarian", "egalitarian"),
        ("max_joint_gain", "max joint gain"),
    ):
        point = result[key]
        if point is None:
            solutions.add_row(name, *("—" for _ in parties), "no zone of agreement")
        else:
            package = ", ".join(f"{k}={v}" for k, v in point["package"].items())
            solutions.add_row(name, *(f"{u:.4g}" for u in point["utilities"]), package)
    console.print(solutions)
    if result["no_zopa"]:
        console.print("[bold red]No package gives every party its reservation (no ZOPA).[/]")
    for trade in result["trades"][:3]:
        console.print(f"Trade: {trade['meaning']} (score {trade['score']:.3g})")
    if "improvements" in result:
        console.print(
            f"{len(result['improvements'])} frontier points improve on the tentative agreement."
        )


def _sketch(result: dict[str, Any], width: int = 56, height: int = 14) -> str:
    """The frontier drawn in text: first party across, second up."""
    points = [p["utilities"][:2] for p in result["frontier"]]
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    grid = [[" "] * width for _ in range(height)]
    for x, y in points:
        col = 0 if x1 == x0 else round((x - x0) / (x1 - x0) * (width - 1))
        row = 0 if y1 == y0 else round((y - y0) / (y1 - y0) * (height - 1))
        grid[height - 1 - row][col] = "●"
    lines = [f"{result['parties'][1]} ↑"] + ["│" + "".join(r) for r in grid]
    lines.append("└" + "─" * width + f"→ {result['parties'][0]}")
    return "\n".join(lines)


def _print_division(result: dict[str, Any]) -> None:
    first, second = result["parties"]
    table = Table("issue", first, second, title="Adjusted Winner")
    for issue, shares in result["allocation"].items():
        table.add_row(issue, f"{shares[first]:.4g}", f"{shares[second]:.4g}")
    console.print(table)
    if result["split"]:
        split = result["split"]
        console.print(
            f"Split issue: {split['issue']} — {first} {split['fraction_to'][first]}, "
            f"{second} {split['fraction_to'][second]}"
        )
    console.print(f"Each party gets {result['points'][first]:.6g} of its own points.")
