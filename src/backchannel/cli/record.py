"""``backchannel record status|timeline|export|verify``: the talks' record, checked and shared.

``status`` says what this device has checked of its talks' record:
The device checks the host's latest checkpoint (consistency with the last it held, inclusion of
every event it can open, delivery order) and the checkpoints other devices posted; any alarm —
a rollback, a rewrite, a dropped or reordered entry, a split view — is stored and shown in red,
and the command exits 1 while one stands. ``export`` writes what the device can prove as one
self-contained bundle; ``verify`` checks such a file offline (exit 0 only when everything in it
verifies) and prints its timeline; ``timeline`` does both in memory for the device's own talks.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import typer
from rich.table import Column, Table
from rich.text import Text

from backchannel.cli.app import EXIT_FAILED, app, console, emit_json
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, failures, opened
from backchannel.client import bundle
from backchannel.client.enclosures import check_files, export_files
from backchannel.errors import BundleInvalid, InputError

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
        if post:
            unlocked.driver.post_checkpoint(participant)
            unlocked.save()
        witness = participant.witness
        data = {"talks": alias, **participant.status_json()}
        # The root as `record verify` prints it (hex), beside the host's own base64.
        data["root_hex"] = None if data["root"] is None else base64.b64decode(data["root"]).hex()
    if as_json:
        emit_json(data)
    else:
        console.print(
            f"[bold]{alias}[/]: record of {data['tree_size']} entries, root {data['root_hex']}"
        )
        state = data["state"]
        console.print(
            f"  {data['verified_events']} of the {data['held_events']} events this device holds "
            f"are in their place in it; last cosigned checkpoint posted at "
            f"{data['posted_size']} entries"
        )
        compared = (
            ", ".join(
                f"{c['member'] or 'the root authority'} of {c['party']} at {c['size']}"
                for c in state["compared"]
            )
            or "nobody yet"
        )
        console.print(
            f"  talks-wide state after {state['size']} entries: {state['digest'] or '—'} "
            f"(compared with {compared})"
        )
        for alarm in witness.alarms:
            console.print(f"  [bold red]ALARM {alarm.code}[/] {alarm.message}")
        if not witness.alarms:
            console.print("  [green]no alarm[/]: consistent with every checkpoint seen")
    if witness.alarms:
        raise typer.Exit(EXIT_FAILED)


@record_app.command("timeline")
def timeline(
    alias: str = typer.Argument(..., help="The talks."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Who asked first, through whom and when; every formal act with its mandate chain."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        verified = bundle.verify(bundle.export(unlocked.participant(alias)))
    show(verified.to_json(), as_json=as_json)


@record_app.command("export")
def export(
    alias: str = typer.Argument(..., help="The talks."),
    out: Path = typer.Option(..., "--out", help="The bundle file to write."),
    with_content: bool = typer.Option(
        False, "--with-content", help="Open the messages too (formal acts always are)."
    ),
    files: Path | None = typer.Option(
        None, "--files", help="With --with-content: also write the documents (verified) here."
    ),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Write one self-contained, offline-verifiable bundle of what this device can prove."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        if files is not None and not with_content:
            raise InputError("--files needs --with-content (the bundle must open the documents)")
        participant = unlocked.participant(alias)
        data = bundle.export(participant, with_content=with_content)
        verified = bundle.verify(data)  # never hand out a file that would not verify
        written = [] if files is None else export_files(unlocked.host, participant, files)
    write(out, data)
    summary: dict[str, Any] = {
        "out": str(out),
        "entries": verified.size,
        "opened": len(verified.acts),
    }
    if files is not None:
        summary["files"] = written
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"Wrote {out}: a record of {verified.size} entries, {len(verified.acts)} opened, "
            f"verified before writing."
        )


@record_app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="A bundle written by `record export`."),
    files: Path | None = typer.Option(
        None, "--files", help="Also check the documents written beside it (`export --files`)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Check a bundle offline: signatures, proofs, cosignatures, mandates; exit 0 if all hold."""
    with failures(as_json=as_json):
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise BundleInvalid(f"{file} cannot be read: {exc.strerror}") from exc
        verified = bundle.loads(raw)
        result = verified.to_json()
        if files is not None:
            if verified.view is None or not files.is_dir():
                raise BundleInvalid(f"{files} is not a directory of this bundle's documents")
            result["files"] = check_files(verified.view, files)
    show(result, as_json=as_json)


def write(path: Path, data: dict[str, Any]) -> None:
    """Write a bundle atomically (a crash leaves the old file or the new one)."""
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_bytes(bundle.dumps(data))
    scratch.replace(path)


def show(data: dict[str, Any], *, as_json: bool) -> None:
    """Print a verified timeline: the initiator first, then every act with its mandate."""
    if as_json:
        emit_json(data)
        return
    console.print(
        f"[bold green]Verified[/]: talks {data['talks']}, {data['size']} entries, root "
        f"{data['root'][:16]}…, {data['opened']} opened, {data['sealed']} sealed; cosigned by "
        f"{len(data['cosigned_by'])} device(s)"
    )
    first = data["initiator"]
    if first:
        via = f"through {first['via']}" if first["via"] else "directly"
        console.print(
            f"[bold]Initiator:[/] {first['member'] or first['party'] + ' (root)'} of "
            f"{first['party']} asked {first['to_party']} {via}, at {first['at']}"
        )
    # A timestamp is never cut or wrapped, whatever the terminal's width.
    at = Column("at", no_wrap=True, min_width=25)
    table = Table("#", at, "actor", "party", "act", "mandate")
    for act in data["timeline"]:
        mandate = act["mandate"]
        chain = (
            mandate
            if isinstance(mandate, str) or mandate is None
            else " → ".join(
                [f"{act['party']} root", *(f"{x['member']} ({x['level']})" for x in mandate)]
            )
        )
        what = act["action"]
        if "article" in act:  # an act on the negotiating text names the article and version
            what += f" {act['article']}" + (f" v{act['version']}" if "version" in act else "")
        if "stage" in act:
            what += f" [{act['stage']}]"
        # Text, not markup: "[agreed-ad-ref]" would otherwise be read as a style and vanish.
        table.add_row(
            str(act["index"]), act["at"], act["actor"], act["party"], Text(what), chain or ""
        )
    console.print(table)
    if "files" in data:
        console.print(
            f"{len(data['files'])} document file(s) match the hashes the record commits to"
        )
