"""``backchannel doc send|relay|list|get|versions``: files in the talks, end to end encrypted.

A document is a message whose body is a descriptor (:mod:`backchannel.client.document`), so
it carries a carry label like any message and the engine checks it before anything leaves the
device: a refused send uploads nothing. The file is sealed and uploaded in chunks with a progress
bar (on stderr); a cut upload resumes when the same command runs again, and a cut download
when ``doc get`` runs again. ``doc get`` writes the file only once every check passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from backchannel.cli.app import EXIT_FAILED, app, console, emit_json, err_console
from backchannel.cli.local import JsonOption, LabelOption, PassphraseOption, ProfileOption, opened
from backchannel.client import dispatch, transfer
from backchannel.client.document import (
    document_json,
    expired,
    find,
    versions,
)
from backchannel.engine import events as ev
from backchannel.engine import watermark
from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import DocumentInvalid

doc_app = typer.Typer(help="Send, list, fetch and compare documents.", no_args_is_help=True)
app.add_typer(doc_app, name="doc")


@contextmanager
def _bar(total: int, what: str, *, quiet: bool) -> Iterator[transfer.Progress]:
    """A Rich progress bar on stderr (nothing with --json), as a progress callback."""
    if quiet:
        yield lambda moved: None
        return
    columns = ("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda moved: bar.advance(task, moved)


@doc_app.command("send")
def send(
    alias: str = typer.Argument(..., help="The talks."),
    room: str = typer.Argument(..., help="The room."),
    file: Path = typer.Argument(..., help="The file to send."),
    label: Label = LabelOption,
    supersedes: str | None = typer.Option(
        None, "--supersedes", help="The document (yours) this is a new version of."
    ),
    message: str | None = typer.Option(None, "--id", help="The document's id (default: random)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Send a file to a room as a document, encrypted on this device, with a carry label."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        size = file.stat().st_size if file.is_file() else 0
        with _bar(size, f"sending {file.name}", quiet=as_json) as progress:
            data = dispatch.send(
                unlocked, alias, room, file, label, progress, supersedes=supersedes, message=message
            )
        if as_json:
            emit_json(data)
        else:
            console.print(
                f"Sent {data['name']} to {room} as {data['document']} {escape(f'[{label.value}]')}."
            )


@doc_app.command("relay")
def relay(
    alias: str = typer.Argument(..., help="The talks."),
    source: str = typer.Argument(..., help="The document to carry."),
    room: str = typer.Argument(..., help="The room to carry it into."),
    mode: RelayMode = typer.Option(..., "--mode", help="verbatim or gist."),
    file: Path | None = typer.Option(
        None, "--file", help="For a gist: the mediator's own (summarised or redacted) file."
    ),
    message: str | None = typer.Option(None, "--id", help="The relay's id."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Carry a document into another room, as its label allows (mediator only): verbatim, the
    author's own descriptor and signature; gist, the mediator's own file."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        size = file.stat().st_size if file is not None and file.is_file() else 0
        shown = file.name if file is not None else source
        with _bar(size, f"sending {shown}", quiet=as_json or file is None) as progress:
            data = dispatch.relay(
                unlocked, alias, source, room, mode, progress, path=file, message=message
            )
        mid = data["document"]
        if as_json:
            emit_json(data)
        else:
            console.print(f"Carried {source} into {room} ({mode.value}) as {mid}.")


@doc_app.command("list")
def list_documents(
    alias: str = typer.Argument(..., help="The talks."),
    room: str | None = typer.Option(None, "--room", help="Only this room."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """The documents you may read (without the host, what the device already holds)."""
    with opened(profile, passphrase_file, as_json=as_json, offline=True) as unlocked:
        participant = unlocked.participant(alias)
        found = dispatch.readable(participant, room)
        now = datetime.now(UTC)
        rows = [{**document_json(d), "expired": expired(participant.view, d, now)} for d in found]
        if as_json:
            emit_json(
                {
                    "talks": alias,
                    "retention_days": participant.view.document_retention_days or None,
                    "documents": rows,
                }
            )
            return
        view = participant.view
        table = Table("id", "room", "author", "label", "name", "size", "sha256")
        for row in rows:
            room_of, author = view.rooms.get(row["room"]), view.members.get(row["author"])
            table.add_row(
                row["id"],
                room_of.name if room_of is not None and room_of.name else row["room"],
                author.name if author is not None and author.name else row["author"],
                row["label"],
                row["name"] + (" (expired)" if row["expired"] else ""),
                str(row["size"]),
                row["sha256"][:16],
            )
        console.print(table)


@doc_app.command("get")
def get(
    alias: str = typer.Argument(..., help="The talks."),
    document: str = typer.Argument(..., help="The document."),
    out: Path = typer.Option(..., "--out", help="Where to write the file."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists."),
    visible: bool = typer.Option(
        True, "--visible/--no-visible", help="A PDF copy shows who it was issued to, and when."
    ),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Fetch a document, check it against what its author sent, and write it (only then).

    A PDF is written as this member's own stamped copy: marks in its text layer that name the
    copy when a leaked file or excerpt is traced (``doc trace``), and a visible line."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        found = find(dispatch.readable(participant), document)
        if out.exists() and not force:
            raise DocumentInvalid(f"{out} exists; give --force to replace it")
        if not out.parent.is_dir():
            raise DocumentInvalid(f"no such directory: {out.parent}")
        total = transfer.ciphertext_size_of(found.descriptor)
        with _bar(total, f"fetching {found.descriptor.name}", quiet=as_json) as progress:
            d = dispatch.fetch(unlocked, alias, document, out, progress, visible=visible)
        data = {
            **document_json(d),
            "talks": alias,
            "out": str(out),
            "verified": True,
            "stamped_for": participant.me if transfer.is_pdf(d.descriptor) else None,
        }
        if as_json:
            emit_json(data)
        else:
            console.print(f"Wrote {out} ({d.descriptor.size} bytes, SHA-256 checked).")
            if data["stamped_for"]:
                console.print(f"It is {participant.me}'s own stamped copy: a leak of it names it.")


@doc_app.command("trace")
def trace(
    alias: str = typer.Argument(..., help="The talks."),
    document: str = typer.Argument(..., help="The document the leak is a copy of."),
    leaked: Path = typer.Argument(..., help="The leaked PDF, or a text file with an excerpt."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Name the member whose copy a leaked PDF (or pasted excerpt of it) came from, with the
    chance that another copy would match as well; exit 0 only when one is identified."""
    with opened(profile, passphrase_file, as_json=as_json, offline=True) as unlocked:
        try:
            raw = leaked.read_bytes()
        except OSError as exc:
            raise DocumentInvalid(f"cannot read {leaked}: {exc.strerror}") from exc
        data = dispatch.trace(unlocked, alias, document, raw)
        if as_json:
            emit_json(data)
        else:
            _print_trace(data)
        if data["verdict"] != watermark.Verdict.IDENTIFIED.value:
            raise typer.Exit(EXIT_FAILED)


def _print_trace(data: dict[str, Any]) -> None:
    if data["verdict"] == "identified":
        console.print(
            f"[bold]Identified[/]: the copy issued to [bold]{data['recipient']}[/] "
            f"({data['spaces']} spaces compared, {data['marks']} marks; the chance that another "
            f"copy matches as well is {data['chance']:.2g})"
        )
    else:
        console.print(f"[yellow]{data['verdict']}[/]: no single copy is named")
    if data["metadata_holder"]:
        console.print(f"The file's metadata names the copy of {data['metadata_holder']}.")


@doc_app.command("versions")
def versions_of(
    alias: str = typer.Argument(..., help="The talks."),
    document: str = typer.Argument(..., help="Any version of the document."),
    diff: bool = typer.Option(True, help="Show what changed between text versions."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """A document's versions, oldest first; for text formats, a unified diff between each."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        chain = versions(dispatch.readable(participant), document)
        diffs = dispatch.diffs(unlocked, participant, chain) if diff else [None] * (len(chain) - 1)
        rows = [
            {**document_json(d), "version": i + 1, "diff": None if i == 0 else diffs[i - 1]}
            for i, d in enumerate(chain)
        ]
        if as_json:
            emit_json({"talks": alias, "document": document, "versions": rows})
            return
        for row in rows:
            console.print(f"[bold]v{row['version']}[/] {row['id']} {row['name']} ({row['at']})")
            if row["diff"]:
                console.print(row["diff"], markup=False)


@doc_app.command("retention")
def retention(
    alias: str = typer.Argument(..., help="The talks."),
    days: int = typer.Argument(..., min=1, max=3650, help="Days a document stays openable."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Set how many days after it was recorded devices stop opening a document (the mediator's
    root authority; a signed, talks-wide act)."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        own = participant.introduction
        root = own.party if own is not None and own.root else participant.me
        unlocked.act(participant, ev.SetRetention, days=days, actor=root)
        data = {"talks": alias, "retention_days": days, "by": root}
        if as_json:
            emit_json(data)
        else:
            console.print(
                f"Documents in {alias} now leave devices {days} days after they were sent."
            )
