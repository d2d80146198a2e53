"""``backchannel verify-device``: compare another device's keys out of band.

Two ways: ``--fingerprint`` shows both identities' fingerprints to read aloud; without it, both
people run the command at the same time and compare the short codes (SAS) it prints. Either way
the device is marked verified only when the person confirms they matched (``--yes`` confirms in
advance, for scripts that already compared).
"""

from __future__ import annotations

from pathlib import Path

import typer

from backchannel.cli.app import EXIT_FAILED, app, console, emit_json
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, opened
from backchannel.client.sas import mark_verified, verify_with_sas
from backchannel.crypto import fingerprint


@app.command("verify-device")
def verify_device(
    alias: str = typer.Argument(..., help="The talks."),
    peer: str = typer.Argument(..., help="The other device: its member, party or device id."),
    by_fingerprint: bool = typer.Option(
        False, "--fingerprint", help="Compare identity fingerprints instead of SAS codes."
    ),
    timeout: float = typer.Option(120, "--timeout", help="Seconds to wait for the other side."),
    yes: bool = typer.Option(False, "--yes", help="Mark verified without asking (codes compared)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Verify another device of the talks by fingerprint or by short codes (SAS)."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        found = unlocked.participant(alias).directory.find(peer)
        data: dict[str, object] = {
            "talks": alias,
            "device": found.host_device,
            "mine": unlocked.fingerprint,
            "theirs": fingerprint(found.identity),
        }
        if not by_fingerprint:
            codes = verify_with_sas(unlocked, alias, peer, timeout=timeout)
            data["decimals"] = codes.display()
            data["emoji"] = list(codes.emoji)
        if not as_json:
            console.print(f"Your identity:    [bold]{data['mine']}[/]")
            console.print(f"{peer}'s identity: [bold]{data['theirs']}[/]")
            if "decimals" in data:
                console.print(f"Short codes:      [bold]{data['decimals']}[/]")
        confirmed = yes or (
            not as_json and typer.confirm("Did the other person read the same?", default=False)
        )
        if confirmed:
            mark_verified(unlocked, alias, peer)
        data["verified"] = confirmed
        if as_json:
            emit_json(data)
        else:
            console.print("Verified." if confirmed else "[yellow]Not marked verified.[/]")
        if not confirmed and not as_json:
            raise typer.Exit(EXIT_FAILED)
