"""``backchannel record status``: what this device has checked of its talks' record.

The device checks the host's latest checkpoint (consistency with the last it held, inclusion of
every event it can open, delivery order) and the checkpoints other devices posted; any alarm —
a rollback, a rewrite, a dropped or reordered entry, a split view — is stored and shown in red,
and the command exits 1 while one stands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from backchannel.cli.app import EXIT_FAILED, app, console, emit_json
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, opened
from backchannel.crypto.signed import b64

record_app = typer.Typer(help="The tamper-evident record of each talks.", no_args_is_help=True)
app.add_typer(record_app, name="record")


@record_app.command("status")
def status(
    alias: str = typer.Argument(..., help="The talks."),
    post: bool = typer.Option(False, "--post", help="Post this device's cosigned checkpoint now."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """The latest checkpoint this device verified, what it proved, and any split-view alarm."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        participant.watch()
        if post:
            participant.post_checkpoint()
        witness = participant.witness
        data = {
            "talks": alias,
            "tree_size": witness.size,
            "root": None if witness.root is None else b64(witness.root),
            "checkpoint": witness.note,
            "verified_events": len(witness.verified),
            "held_events": len(participant.openings),
            "posted_size": witness.posted_size,
            "alarms": [a.to_json() for a in witness.alarms],
        }
    if as_json:
        emit_json(data)
    else:
        console.print(
            f"[bold]{alias}[/]: record of {data['tree_size']} entries, root {data['root']}"
        )
        console.print(
            f"  {data['verified_events']} of the {data['held_events']} events this device holds "
            f"are proven in it; last cosigned checkpoint posted at {data['posted_size']} entries"
        )
        for alarm in witness.alarms:
            console.print(f"  [bold red]ALARM {alarm.code}[/] {alarm.message}")
        if not witness.alarms:
            console.print("  [green]no alarm[/]: consistent with every checkpoint seen")
    if witness.alarms:
        raise typer.Exit(EXIT_FAILED)
