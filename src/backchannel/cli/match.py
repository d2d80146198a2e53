"""``backchannel match FILE``: match sealed conditional commitments and print the plan.

``--direct`` matches without a mediator: by default both sides' private set intersection runs in
this process (a demonstration over one file); with ``--talks ALIAS`` this device runs its own
side through the talks' host with the other party's device (``client/direct_run.py``), from FILE
holding its own commitments only, and both parties sign the outcome in the record.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from backchannel.cli.app import EXIT_OK, app, console, emit_json, fail
from backchannel.cli.local import PassphraseOption, ProfileOption, dropped_json, opened
from backchannel.client import direct_run
from backchannel.client.direct_match import Learned, run_locally
from backchannel.engine import escrow as escrow_file
from backchannel.engine.sequencing import check_viewer, view
from backchannel.errors import BackchannelError, EscrowInvalid, PsiError


@app.command()
def match(
    file: Path = typer.Argument(..., help="An escrow file (JSON, see docs/escrow.md)."),
    as_party: str | None = typer.Option(
        None, "--as", help="Show one party's sealed view instead of the mediator's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    direct: bool = typer.Option(
        False,
        "--direct",
        help="Match without a mediator: run both parties' sides of the private set intersection "
        "locally and print what each side learned (docs/security.md).",
    ),
    size: int = typer.Option(
        1024, "--size", help="With --direct: the agreed padded set size (what each side sees)."
    ),
    talks: str | None = typer.Option(
        None,
        "--talks",
        help="With --direct: run this device's side through these talks with the other party's "
        "device (run it on both sides at about the same time); FILE holds this side's own "
        "commitments.",
    ),
    with_party: str | None = typer.Option(
        None, "--with", help="With --talks: the party to match with (default: the only other)."
    ),
    timeout: float = typer.Option(
        120, "--timeout", min=1, help="With --talks: how long (s) to wait for the other side."
    ),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
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
    if talks is not None:
        if not direct or as_party is not None:
            fail(EscrowInvalid("--talks", "goes with --direct, and without --as"), as_json=as_json)
        _through_talks(
            json.loads(text), talks, size, with_party, timeout, profile, passphrase_file, as_json
        )
    if direct:
        _direct(escrow, as_party, size, as_json)
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


def _direct(escrow: escrow_file.Escrow, as_party: str | None, size: int, as_json: bool) -> None:
    try:
        # One local run stands for talks and a session: fresh random ids bind its descriptors.
        first, second, wire = run_locally(
            escrow, talks=secrets.token_hex(8), session=secrets.token_hex(8), size=size
        )
    except BackchannelError as exc:
        fail(exc, as_json=as_json)
    sides = {s.outcome.party: _learned_json(s) for s in (first, second)}
    if as_party is not None:
        sides = {as_party: sides[as_party]} if as_party in sides else {}
    if as_json:
        emit_json({"direct": True, "sides": sides, "messages": [len(m) for m in wire]})
    else:
        for side in sides.values():
            _print_side(side)
        console.print(f"Messages exchanged (bytes): {', '.join(str(len(m)) for m in wire)}")
    raise typer.Exit(EXIT_OK)


def _learned_json(learned: Learned) -> dict[str, Any]:
    mine = learned.outcome
    deal = mine.deal
    return {
        "party": mine.party,
        "other": mine.other,
        "matched": deal is not None,
        "deal": None if deal is None else {p: list(deal.of(p)) for p in deal.parties},
        "own_matched": [c.id for c in mine.commitments],
        "disclosed_by_other": [
            {
                "id": c.id,
                "gives": list(c.gives),
                "not_before": list(c.not_before),
                "description": c.description,
            }
            for c in learned.disclosed
        ],
        "settlements": [
            {"action": t.action, "term": t.term, "value": t.value, "overlap": [t.low, t.high]}
            for t in mine.settlements
        ],
        "plan": [
            {
                "actions": list(s.actions),
                "simultaneous": s.simultaneous,
                "verified_by": s.verified_by,
            }
            for s in learned.plan
        ],
        "learned_sizes": {
            "other_set_size": learned.other_size,
            "own_deals": learned.own_deals,
            "matched_deals": learned.matched_deals,
        },
    }


def _print_side(side: dict[str, Any]) -> None:
    console.rule(f"[bold]Direct match — what {side['party']} learned[/]")
    if not side["matched"]:
        console.print(f"[yellow]No match.[/] Nothing of {side['other']}'s commitments.")
    else:
        console.print(f"[green]Own matched:[/] {', '.join(side['own_matched'])}")
        disclosed = ", ".join(c["id"] for c in side["disclosed_by_other"])
        console.print(f"[green]{side['other']} disclosed:[/] {disclosed}")
        for number, stage in enumerate(side["plan"], start=1):
            how = "simultaneous" if stage["simultaneous"] else "in turn"
            console.print(f"  stage {number} ({how}): {', '.join(stage['actions'])}")
        for settled in side["settlements"]:
            low, high = settled["overlap"]
            console.print(
                f"Settled: {settled['action']} {settled['term']} = {settled['value']:g} "
                f"(overlap {low:g}–{high:g}, seen by both)"
            )
    sizes = side["learned_sizes"]
    console.print(
        f"Also learned: {side['other']} sent {sizes['other_set_size']} points (the padded size); "
        f"{sizes['matched_deals']} of own {sizes['own_deals']} deals matched."
    )


def _through_talks(
    document: dict[str, Any],
    alias: str,
    size: int,
    with_party: str | None,
    timeout: float,
    profile: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        try:
            run = direct_run.run_through(
                unlocked, alias, document, size=size, with_party=with_party, timeout=timeout
            )
        except PsiError as exc:  # a size or a round this side cannot take: bad input here
            fail(exc, as_json=as_json)
        assert run.learned is not None  # run_through returns a finished run
        held = run.agreement()
        side = {
            **_learned_json(run.learned),
            "talks": alias,
            "session": run.session,
            "initiator": run.initiator,
            "signed_by": [] if held is None else sorted(held.signed),
            "agreed": held is not None and held.agreed,
            "dropped": dropped_json(run.participant),
        }
    if as_json:
        emit_json({"direct": True, "through_talks": True, **side})
    else:
        _print_side(side)
        agreed = "signed by both parties" if side["agreed"] else "nothing to sign"
        console.print(f"Session {run.session} in {alias}: {agreed}, in the record.")
    raise typer.Exit(EXIT_OK)
