"""``backchannel match FILE``: match sealed conditional commitments and print the plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from backchannel.cli.app import EXIT_OK, app, console, emit_json, fail
from backchannel.engine import escrow as escrow_file
from backchannel.engine.sequencing import check_viewer, view
from backchannel.errors import EscrowInvalid


@app.command()
def match(
    file: Path = typer.Argument(..., help="An escrow file (JSON, see docs/escrow.md)."),
    as_party: str | None = typer.Option(
        None, "--as", help="Show one party's sealed view instead of the mediator's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Find the largest self-supporting set of commitments and its sequencing plan.

    "No match" is a result, not an error (exit 0); an invalid file, or one with no commitments,
    exits 2.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(EscrowInvalid(str(file), f"cannot read the file ({exc})"), as_json=as_json)
    try:
        escrow = escrow_file.loads(text)
        if not escrow.commitments:
            raise EscrowInvalid("commitments", "holds none: there is nothing to match")
        check_viewer(escrow, as_party, "--as")
    except EscrowInvalid as exc:
        exc.message = f"{file}: {exc.message}"
        fail(exc, as_json=as_json)
    result = view(escrow, as_party)
    if as_json:
        emit_json(result)
    else:
        _print(result)
    raise typer.Exit(EXIT_OK)


def _print(result: dict[str, Any]) -> None:
    console.rule(f"[bold]Escrow — {result['view']}'s view[/]")
    if result["matched"]:
        console.print(f"[green]Matched:[/] {', '.join(result['matched'])}")
        table = Table("stage", "actions", "how", "verified by")
        for number, stage in enumerate(result["plan"], start=1):
            how = "[bold]simultaneous[/]" if stage["simultaneous"] else "in turn"
            table.add_row(
                str(number), "\n".join(stage["actions"]), how, stage["verified_by"] or "—"
            )
        console.print(table)
        for settled in result["settlements"]:
            value = settled["value"]
            value = "no value (neither range is bounded)" if value is None else f"{value:g}"
            console.print(f"Settled: {settled['action']} {settled['term']} = {value}")
    else:
        console.print("[yellow]No match.[/]")
    sealed = ", ".join(f"{party}: {count}" for party, count in result["sealed"].items())
    console.print(f"Still sealed (unmatched commitments per party): {sealed}")
    for party, actions in result["unmet"].items():
        console.print(f"Unmet for {party}: {', '.join(actions)}")
    if result["deadlock"]:
        console.print(f"[bold]Why:[/] {result['deadlock']}")
