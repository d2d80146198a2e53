"""``backchannel escrow deposit|amend|withdraw|list|match``: the talks' sealed escrow, as acts.

A party's device deposits one commitment of an escrow file (``--id``), amends it and withdraws
it; ``list`` shows what the device may show (its party's deposits in full, the others' as
counts, the matches it received); the mediator's device matches (:mod:`client.deposits`). Each
act is judged by the device's own engine before anything leaves it: a refusal prints the
engine's code and sentence and exits 2. "No match" is a result, printed with the matcher's
explanation, and exits 0. The file-mode ``backchannel match FILE`` is :mod:`cli.match`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from backchannel.cli.app import app, console, emit_json
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, failures, opened
from backchannel.client import deposits
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.engine.state import Deposited, Talks
from backchannel.errors import InputError

escrow_app = typer.Typer(
    help="Deposit, amend, withdraw and match sealed commitments in the talks.",
    no_args_is_help=True,
)
app.add_typer(escrow_app, name="escrow")

FileArgument = typer.Argument(..., help="An escrow file (docs/escrow.md) holding the commitment.")
IdOption = typer.Option(..., "--id", help="The commitment's id in the file: the deposit's id.")


def _seen(participant: Participant) -> tuple[Talks, str]:
    return participant.view, participant.me


def _read(file: Path, commitment: str) -> str:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from exc
    return deposits.from_file(text, commitment)


def _done(alias: str, verb: str, held: Deposited, view: Talks, *, as_json: bool) -> None:
    data = {
        "talks": alias,
        "deposit": held.id,
        "party": held.party,
        "status": held.status.value,
        "version": held.version,
    }
    if as_json:
        emit_json(data)
        return
    party = (
        view.parties[held.party].name or held.party if held.party in view.parties else held.party
    )
    console.print(f"{verb} {held.id} of {party} (version {held.version}, {held.status.value}).")


@escrow_app.command("deposit")
def deposit(
    alias: str = typer.Argument(..., help="The talks."),
    file: Path = FileArgument,
    commitment: str = IdOption,
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Deposit one of your party's commitments, sealed: only the mediator's devices and your
    party's read it; the other parties' count it."""
    _put(deposits.deposit, "Deposited, sealed:", alias, file, commitment,
         profile, passphrase_file, as_json)  # fmt: skip


@escrow_app.command("amend")
def amend(
    alias: str = typer.Argument(..., help="The talks."),
    file: Path = FileArgument,
    commitment: str = IdOption,
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Replace your party's open deposit with the file's new version of the commitment."""
    _put(deposits.amend, "Amended:", alias, file, commitment, profile, passphrase_file, as_json)


def _put(
    act: Callable[[Profile, Participant, str, str], Deposited],
    verb: str,
    alias: str,
    file: Path,
    commitment: str,
    profile: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Deposit or amend ``commitment`` as the escrow file ``file`` holds it."""
    with failures(as_json=as_json):
        text = _read(file, commitment)
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        held = act(unlocked, participant, commitment, text)
        _done(alias, verb, held, participant.view, as_json=as_json)


@escrow_app.command("withdraw")
def withdraw(
    alias: str = typer.Argument(..., help="The talks."),
    deposit_id: str = typer.Argument(..., metavar="ID", help="Your party's open deposit."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Withdraw your party's open deposit: it can no longer match."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        held = deposits.withdraw(unlocked, participant, deposit_id)
        _done(alias, "Withdrawn:", held, participant.view, as_json=as_json)


@escrow_app.command("list")
def list_(
    alias: str = typer.Argument(..., help="The talks."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """What this device may show of the escrow: your party's deposits (the mediator: every
    one), the others' open deposits as counts, and the matches announced to you."""
    with opened(profile, passphrase_file, as_json=as_json, offline=True) as unlocked:
        data = {"talks": alias, **deposits.escrow_json(*_seen(unlocked.participant(alias)))}
        if as_json:
            emit_json(data)
            return
        names = {p["id"]: p["name"] for p in data["parties"]}
        _print_deposits(data, names)
        counts = ", ".join(f"{names.get(p, p)}: {n}" for p, n in data["sealed"].items())
        console.print(f"Sealed (open deposits per party): {counts or 'none'}")
        for found in data["matches"]:
            _print_match(found, names)


def _print_deposits(data: dict[str, Any], names: dict[str, str]) -> None:
    if not data["deposits"]:
        console.print("No deposit of yours." if not data["mediating"] else "No deposit yet.")
        return
    console.print("Deposits:" if data["mediating"] else "Your party's deposits:")
    for held in data["deposits"]:
        commitment = held["commitment"] or {}
        gives = ", ".join(commitment.get("gives", [])) or "nothing"
        console.print(
            f"  {held['id']} of {names.get(held['party'], held['party'])}, by "
            f"{held['member']['name']} at {held['at']}: version {held['version']}, "
            f"{held['status']}; gives {gives}; requires {_condition(commitment.get('requires'))}"
        )


def _condition(condition: Any) -> str:
    if condition is None:
        return "—"
    if isinstance(condition, str):
        return condition
    ((kind, parts),) = condition.items()
    return f"{kind} of ({', '.join(_condition(p) for p in parts)})"


def _print_match(found: dict[str, Any], names: dict[str, str]) -> None:
    console.print(f"Match {found['id']} ({found['at']}): {', '.join(found['deposits'])}")
    for n, stage in enumerate(found["plan"], 1):
        how = "simultaneous" if stage["simultaneous"] else "in turn"
        verified = stage["verified_by"]
        by = f", verified by {names.get(verified, verified)}" if verified else ""
        console.print(f"  stage {n} ({how}{by}): {', '.join(stage['actions'])}")
    for term in found["settled"]:
        console.print(f"  settled: {term['action']} {term['term']} = {term['value']}")


@escrow_app.command("match")
def match(
    alias: str = typer.Argument(..., help="The talks."),
    match_id: str | None = typer.Option(None, "--id", help="The match's id (default: random)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """As the mediator, match the open deposits and announce what matches (a signed act to the
    parties concerned); "no match" is a result, with why."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        result = {"talks": alias, **deposits.match(unlocked, participant, match_id)}
        if as_json:
            emit_json(result)
            return
        view = deposits.escrow_json(*_seen(participant))
        names = {p["id"]: p["name"] for p in view["parties"]}
        if result["match"] is None:
            console.print("No match: nothing was announced.")
            if result["deadlock"]:
                console.print(f"Why: {result['deadlock']}")
            return
        console.print("Matched and announced.")
        _print_match(result["match"], names)
