"""``backchannel sync``: check in with the host and apply what waits, in the record's order.

Every command syncs before it acts; this one only syncs, for the moments when a device has to
answer others: a convener welcomes the devices that joined with its invites, and a newcomer, once
welcomed, declares its party in the talks. Between people on separate machines that happens
whenever each opens the app or runs a command; in one shell it is this command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from backchannel.cli.app import app, console, emit_json
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, opened


@app.command()
def sync(
    wait: int = typer.Option(0, "--wait", min=0, max=60, help="Wait this long (s) for news."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Fetch what the host holds for this device, apply it, and answer what the talks ask."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        received = unlocked.sync(timeout=wait)
        talks: list[dict[str, Any]] = []
        for alias, participant in sorted(unlocked.talks.items()):
            view = participant.view
            talks.append(
                {
                    "alias": alias,
                    "received": len(received.get(alias, [])),
                    "parties": {p.id: p.name or p.id for p in view.parties.values()},
                }
            )
        if as_json:
            emit_json({"talks": talks})
            return
        for t in talks:
            parties = ", ".join(t["parties"].values())
            console.print(f"{t['alias']}: parties {parties}; {t['received']} acts received")
        if not talks:
            console.print("No talks yet.")
