"""``backchannel simulate FILE``: replay a scenario and print its transcript."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from backchannel.cli.app import EXIT_FAILED, EXIT_OK, app, console, emit_json, fail
from backchannel.errors import ScenarioInvalid
from backchannel.replay import Transcript, describe, replay, text_of
from backchannel.scenario import load


@app.command()
def simulate(
    file: Path = typer.Argument(..., help="A scenario file (scenarios/*.toml)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Replay a scenario through the engine and print the transcript.

    Exit 0 when every step behaved as written, 1 otherwise, 2 for an invalid file.
    """
    try:
        scenario = load(file)
    except ScenarioInvalid as exc:
        fail(exc, as_json=as_json)
    transcript = replay(scenario)
    if as_json:
        emit_json(transcript.to_json())
    else:
        _print(transcript)
    raise typer.Exit(EXIT_OK if transcript.as_written else EXIT_FAILED)


def _print(transcript: Transcript) -> None:
    talks = transcript.talks
    console.rule(f"[bold]{talks.title or talks.id}[/]")
    for outcome in transcript.outcomes:
        event = outcome.step.event
        head = Text()
        head.append(f"{outcome.step.index + 1:>3} ", style="dim")
        head.append(event.at.strftime("%Y-%m-%d %H:%M "), style="dim")
        head.append(event.actor, style="cyan")
        head.append(f" {event.action.value} ", style="bold")
        head.append(describe(event))
        head.append("  ")
        if outcome.ok and outcome.as_written:
            head.append("ok", style="green")
        elif outcome.ok:
            head.append(f"accepted, but expected {outcome.step.expect_error}", style="bold red")
        elif outcome.as_written:
            head.append(f"refused {outcome.code} (as expected)", style="yellow")
        else:
            head.append(f"refused {outcome.code}: {outcome.message}", style="bold red")
        console.print(head)
        words = text_of(event)
        if words:
            console.print(Text(f"      {words}", style="italic"))
        if outcome.step.note and not outcome.ok:
            console.print(Text(f"      ({outcome.step.note})", style="dim"))
    data = transcript.to_json()
    first = data["initiator"]
    if first:
        via = f"through {first['via']}" if first["via"] else "directly"
        console.print(
            f"[bold]Initiator:[/] {first['member'] or first['party'] + ' (root)'} of "
            f"{first['party']} asked {first['to_party']} {via}, at {first['at']}"
        )
    outcome = data["outcome"]
    console.print(
        f"[bold]Steps:[/] {outcome['steps']}, accepted {outcome['accepted']}, "
        f"refused {outcome['rejected']}; "
        + ("[green]all as written[/]" if outcome["as_written"] else "[red]NOT as written[/]")
    )
    if outcome["summary"]:
        console.print(f"[bold]Outcome:[/] {outcome['summary']}")
