"""``backchannel simulate FILE``: replay a scenario and print its transcript."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.text import Text

from backchannel.cli.app import EXIT_FAILED, EXIT_OK, app, console, emit_json, fail
from backchannel.cli.local import failures
from backchannel.cli.record import write
from backchannel.errors import InputError, ScenarioInvalid
from backchannel.replay import Transcript, describe, replay, text_of
from backchannel.scenario import load


@app.command()
def simulate(
    file: Path = typer.Argument(..., help="A scenario file (scenarios/*.toml)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    through_host: bool = typer.Option(
        False, "--through-host", help="Replay with real devices through a real host."
    ),
    db: str | None = typer.Option(
        None, "--db", help="With --through-host: the host's database (default: a temporary SQLite)."
    ),
    export_record: Path | None = typer.Option(
        None,
        "--export-record",
        help="Write the record bundle of the replay as the mediator's device sees it "
        "(implies --through-host).",
    ),
    export_as: str | None = typer.Option(
        None, "--as", help="With --export-record: as this party's first device sees it instead."
    ),
    with_content: bool = typer.Option(
        False, "--with-content", help="With --export-record: open the messages and deposits too."
    ),
) -> None:
    """Replay a scenario and print the transcript: through the engine, or through a real host.

    With --through-host every member device and party root is a real device (its own keys,
    end-to-end encryption) talking to a host started on 127.0.0.1. Exit 0 when every step behaved
    as written (and, through a host, no device dropped anything), 1 otherwise, 2 for an invalid
    file. With --export-record the mediator's device (or, without a mediator, the first party's
    root; with --as, that party's first device) exports the record bundle, verified before it is
    written.
    """
    if db is not None and not through_host and export_record is None:
        fail(InputError("--db names the host's database: it needs --through-host"), as_json=as_json)
    if (export_as is not None or with_content) and export_record is None:
        fail(InputError("--as and --with-content shape the exported record: they need "
                        "--export-record"), as_json=as_json)  # fmt: skip
    try:
        scenario = load(file)
    except ScenarioInvalid as exc:
        fail(exc, as_json=as_json)
    if export_as is not None and export_as not in scenario.talks.parties:
        fail(InputError(f"--as: {export_as!r} is not a party of the scenario"), as_json=as_json)
    if through_host or export_record is not None:
        from backchannel.client.simulation import run, temporary_host

        with (
            tempfile.TemporaryDirectory() as scratch,
            temporary_host(db or f"sqlite:///{scratch}/host.db") as url,
        ):
            stacked = run(scenario, url)
            if export_record is not None:
                with failures(as_json=as_json):
                    exported = stacked.export_record(party=export_as, with_content=with_content)
                    write(export_record, exported)
            stacked.close()
        transcript, data = stacked.transcript, stacked.to_json()
        ok = transcript.as_written and not data["stack"]["dropped"]
    else:
        transcript = replay(scenario)
        data, ok = transcript.to_json(), transcript.as_written
    if as_json:
        emit_json(data)
    else:
        _print(transcript)
        if export_record is not None:
            console.print(f"[bold]Record bundle:[/] {export_record}")
        if "stack" in data:
            stack = data["stack"]
            console.print(
                f"[bold]Through the host:[/] {stack['devices']} devices, "
                f"{len(stack['dropped'])} deliveries dropped"
            )
    raise typer.Exit(EXIT_OK if ok else EXIT_FAILED)


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
    for article in data["text"]:
        console.print(
            f"[bold]Article {article['number']}[/] {article['title'] or article['id']}: "
            f"{article['status']} (version {article['version']})"
        )
    outcome = data["outcome"]
    console.print(
        f"[bold]Steps:[/] {outcome['steps']}, accepted {outcome['accepted']}, "
        f"refused {outcome['rejected']}; "
        + ("[green]all as written[/]" if outcome["as_written"] else "[red]NOT as written[/]")
    )
    if outcome["summary"]:
        console.print(f"[bold]Outcome:[/] {outcome['summary']}")
