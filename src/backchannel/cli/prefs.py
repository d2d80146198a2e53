"""``backchannel prefs agenda|score|show|analyze|offer``: private preferences inside the talks.

The mediator sets the agenda to score; each party scores it on its own device (100 points over
the issues, a value from 0 to 100 per option), and its scores travel sealed to the mediator's
devices and its own party's only. The mediator's device analyses what it holds and can put a
package to the parties as an offer. Every act is checked by this device's engine first: a
refusal prints the rule's code and sentence and exits 2, having sent nothing.
``backchannel analyze FILE`` (a whole problem file on one machine) stays as it was.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from backchannel.cli.app import app, console, emit_json
from backchannel.cli.local import JsonOption, LabelOption, PassphraseOption, ProfileOption, opened
from backchannel.client import preferences as prefs
from backchannel.engine import events as ev
from backchannel.engine import preferences
from backchannel.engine.rules import Label
from backchannel.errors import ProblemInvalid, ScoresMalformed

prefs_app = typer.Typer(
    help="Private preferences: the agenda, your party's scores, the mediator's analysis.",
    no_args_is_help=True,
)
app.add_typer(prefs_app, name="prefs")


def _read(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScoresMalformed(f"cannot read {file} ({exc.strerror})") from exc
    except ValueError as exc:
        raise ScoresMalformed(f"{file} is not valid JSON: {exc}") from exc


def _pairs(given: list[str], what: str) -> dict[str, int]:
    """``KEY=N`` options as a mapping (N a whole number)."""
    found: dict[str, int] = {}
    for item in given:
        key, sep, number = item.partition("=")
        if not sep or not key.strip() or not number.strip().lstrip("-").isdigit():
            raise ScoresMalformed(f"{what} takes {what[2:].upper()}=N with N a whole number")
        found[key.strip()] = int(number)
    return found


@prefs_app.command("agenda")
def set_agenda(
    alias: str = typer.Argument(..., help="The talks."),
    file: Path = typer.Argument(..., help='An agenda ({"issues": [...]}) or a problem file.'),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Set the agenda the parties score (mediator): the issues and their options. Each agenda
    is the next version; scores of an earlier one stop counting until re-scored."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        unlocked.act(participant, ev.SetAgenda, agenda=prefs.agenda_document(_read(file)))
        agenda = prefs.agenda_json(participant.view)
        data = {"talks": alias, "agenda": agenda}
        if as_json:
            emit_json(data)
        elif agenda is not None:
            console.print(
                f"Agenda version {agenda['version']} set: "
                + ", ".join(escape(i["name"] or i["id"]) for i in agenda["issues"])
                + "."
            )


@prefs_app.command("score")
def score(
    alias: str = typer.Argument(..., help="The talks."),
    file: Path | None = typer.Argument(
        None, help="Your scores (JSON), or a problem file holding your party's entry."
    ),
    points: list[str] = typer.Option(
        [], "--points", help="ISSUE=N: points for an issue (100 in all); repeat per issue."
    ),
    value: list[str] = typer.Option(
        [], "--value", help="ISSUE/OPTION=V: an option's value, 0 to 100; repeat per option."
    ),
    reservation: int | None = typer.Option(
        None, "--reservation", help="Your utility without agreement (0 to 100)."
    ),
    note: str | None = typer.Option(None, "--note", help="A private note sent with the scores."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Submit your party's scores of the current agenda, sealed to the mediator's devices and
    your party's own; a new submission replaces the last."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        values: dict[str, dict[str, int]] = {}
        for key, number in _pairs(value, "--value").items():
            issue, sep, option = key.partition("/")
            if not sep:
                raise ScoresMalformed("--value takes ISSUE/OPTION=V")
            values.setdefault(issue, {})[option] = number
        party = prefs.own_party(participant)
        view = participant.view
        text = prefs.scores_document(
            view,
            party,
            None if file is None else _read(file),
            points=_pairs(points, "--points"),
            values=values,
            reservation=reservation,
            note=note,
        )
        version = view.agenda.version if view.agenda is not None else 1
        unlocked.act(participant, ev.SubmitScores, version=version, scores=text)
        shown = prefs.show_json(participant)
        data = {"talks": alias, "party": party, "version": version, "mine": shown["mine"]}
        if as_json:
            emit_json(data)
        else:
            console.print(
                f"Scores of agenda version {version} submitted for {escape(party)}: sealed to "
                "the mediator's devices and your party's own."
            )


@prefs_app.command("show")
def show(
    alias: str = typer.Argument(..., help="The talks."),
    package: str | None = typer.Option(
        None, "--package", help="issue=option,…: your own utility for this package."
    ),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """The agenda, who scored it, and your party's own scores and utilities (never another
    party's). Without the host, what this device already holds."""
    with opened(profile, passphrase_file, as_json=as_json, offline=True) as unlocked:
        participant = unlocked.participant(alias)
        chosen = None if package is None else prefs.named_package(participant, package)
        data = {"talks": alias, **prefs.show_json(participant, chosen)}
        if as_json:
            emit_json(data)
            return
        _print_show(data)


def _print_show(data: dict[str, Any]) -> None:
    names = data["names"]
    agenda = data["agenda"]
    if agenda is None:
        console.print("No agenda yet: the mediator sets it (prefs agenda).")
        return
    who = ", ".join(
        f"{escape(names.get(p, p))}: {'scored' if done else 'not yet'}"
        for p, done in data["submitted"].items()
    )
    console.print(f"Agenda version {agenda['version']} — {who}.")
    mine = data["mine"]
    table = Table("issue", "points", "option values", title="Your party's scores")
    for issue in agenda["issues"]:
        points = "—" if mine is None else str(mine["points"].get(issue["id"], "—"))
        per = {} if mine is None else mine["values"].get(issue["id"], {})
        values = ", ".join(f"{o}={per.get(o, '—')}" for o in issue["options"])
        table.add_row(escape(issue["name"] or issue["id"]), points, escape(values))
    console.print(table)
    if mine is not None and not mine["current"]:
        console.print("[yellow]Your scores are of an earlier agenda version: score again.[/]")
    if data["best"] is not None:
        best = data["best"]
        package = ", ".join(f"{k}={v}" for k, v in best["package"].items())
        console.print(f"Your best package: {escape(package)} (utility {best['utility']:.4g}).")
    if "utility" in data:
        utility = data["utility"]
        console.print(
            "Your utility for that package: "
            + ("— (no current scores)" if utility is None else f"{utility:.4g}")
        )


@prefs_app.command("analyze")
def analyze(
    alias: str = typer.Argument(..., help="The talks."),
    plot: Path | None = typer.Option(None, "--plot", help="Draw the frontier to a .png or .svg."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """The analysis over the scores this (mediator's) device holds: frontier, Nash,
    Kalai–Smorodinsky and, for two parties, Adjusted Winner. Computed here, never on the host."""
    with opened(profile, passphrase_file, as_json=as_json, offline=True) as unlocked:
        participant = unlocked.participant(alias)
        data: dict[str, Any] = {"talks": alias, **prefs.analysis_json(participant)}
        if plot is not None:
            if plot.suffix.lower() not in {".png", ".svg"}:
                raise ProblemInvalid("--plot", "must end in .png or .svg")
            from backchannel.engine import analysis as an
            from backchannel.plot import draw

            problem = preferences.problem(participant.view)
            assert problem is not None  # analysis_json found one
            frontier = an.pareto_frontier(problem)
            draw(problem, frontier, an.solve(problem, frontier), plot)
            data["plot"] = str(plot)
        if as_json:
            emit_json(data)
            return
        _print_analysis(data)


def _print_analysis(data: dict[str, Any]) -> None:
    names = data["names"]
    parties = [names.get(p, p) for p in data["parties"]]
    console.rule(
        f"[bold]{data['size']:,} packages[/] — {len(data['frontier'])} on the frontier "
        f"(agenda version {data['agenda']['version']})"
    )
    table = Table("solution", *map(escape, parties), "package", title="Where a deal could lie")
    for key, name in (("nash", "Nash"), ("kalai_smorodinsky", "Kalai–Smorodinsky")):
        point = data[key]
        if point is None:
            table.add_row(name, *("—" for _ in parties), "no zone of agreement")
        else:
            package = ", ".join(f"{k}={v}" for k, v in point["package"].items())
            table.add_row(name, *(f"{u:.4g}" for u in point["utilities"]), escape(package))
    console.print(table)
    frontier = Table(*map(escape, parties), "package", title="Pareto frontier (first 15)")
    for point in data["frontier"][:15]:
        package = ", ".join(f"{k}={v}" for k, v in point["package"].items())
        frontier.add_row(*(f"{u:.4g}" for u in point["utilities"]), escape(package))
    console.print(frontier)
    division = data["adjusted_winner"]
    if division is not None:
        first = division["parties"][0]
        split = division["split"]
        console.print(
            f"Adjusted Winner: each gets {division['points'][first]:.4g} of its own points"
            + (f"; {split['issue']} is split." if split else ".")
        )
    if "plot" in data:
        console.print(f"Plot written to {data['plot']}")


@prefs_app.command("offer")
def offer(
    alias: str = typer.Argument(..., help="The talks."),
    room: str = typer.Argument(..., help="The room to make the offer in."),
    package: str = typer.Argument(
        ..., help="nash, kalai-smorodinsky, max-joint-gain, or issue=option,issue=option…"
    ),
    label: Label = LabelOption,
    message: str | None = typer.Option(None, "--id", help="The offer's id (default: random)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Put a package to the parties as an offer in a room (its words name every issue and
    option), to be accepted, signed and confirmed like any offer."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        chosen = prefs.named_package(participant, package)
        text = preferences.offer_text(participant.view, chosen)
        mid = message or f"m-{secrets.token_hex(6)}"
        unlocked.act(
            participant, ev.Propose, message=mid, room=room, text=text, label=label, lang="en"
        )
        data = {"talks": alias, "proposal": mid, "room": room, "package": chosen, "text": text}
        if as_json:
            emit_json(data)
        else:
            console.print(f"Offered {mid} in {room}: {escape(text)}")
