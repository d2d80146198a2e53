"""``backchannel doc send|relay|list|get|versions``: files in the talks, end to end encrypted.

A document is a message whose body is a descriptor (:mod:`backchannel.client.document`), so
it carries a carry label like any message and the engine checks it before anything leaves the
device: a refused send uploads nothing. The file is sealed and uploaded in chunks with a progress
bar (on stderr); a cut upload resumes when the same command runs again, and a cut download
when ``doc get`` runs again. ``doc get`` writes the file only once every check passed.
"""

from __future__ import annotations

import difflib
import mimetypes
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from backchannel import documents as pdf_copies
from backchannel import engine
from backchannel.cli.app import EXIT_FAILED, app, console, emit_json, err_console
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, opened
from backchannel.client import copies, transfer
from backchannel.client.document import (
    Descriptor,
    Document,
    document_json,
    documents,
    expired,
    find,
    versions,
)
from backchannel.client.outbox import Pending
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine import watermark
from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import DocumentExpired, DocumentInvalid, DuplicateId

doc_app = typer.Typer(help="Send, list, fetch and compare documents.", no_args_is_help=True)
app.add_typer(doc_app, name="doc")

#: Largest text version shown in a diff (larger ones are compared by hash only).
MAX_DIFF_BYTES = 4 * 1024 * 1024


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


def _precheck(
    participant: Participant, kind: type[ev.Send | ev.Relay], message: str | None, **fields: Any
) -> None:
    """The engine's verdict on the act before any byte is uploaded (raises its refusal); a
    fresh id stands in for one not chosen yet."""
    at = datetime.now(UTC).replace(microsecond=0)
    mid = message or f"probe-{secrets.token_hex(8)}"
    probe = kind(
        at=at, actor=participant.me, device=participant.engine_device, message=mid, **fields
    )
    engine.apply(participant.tip(), probe)


def _unsent(participant: Participant, mid: str, text: str) -> bool:
    """Whether the document's message still has to be sent: False if a resumed send finds it
    already recorded; DuplicateId if the id is another message's."""
    held = participant.view.messages.get(mid)
    if held is None:
        return True
    if held.text != text:
        raise DuplicateId(f"{mid!r} is already another message's id")
    return False


def _upload(
    profile: Profile,
    participant: Participant,
    path: Path,
    place: tuple[str, ...],
    supersedes: str | None,
    message: str | None,
    *,
    quiet: bool,
) -> tuple[str, Pending]:
    """Seal (or, after a cut, resume) and upload ``path``: its outbox entry and what to send."""
    if not path.is_file():
        raise DocumentInvalid(f"no such file: {path}")
    if path.stat().st_size > transfer.MAX_DOCUMENT_BYTES:
        raise DocumentInvalid(
            f"{path.name} is {path.stat().st_size} bytes; a document is at most "
            f"{transfer.MAX_DOCUMENT_BYTES}"
        )
    outbox = profile.outbox()
    entry = outbox.entry(transfer.file_sha256(path), *place, supersedes or "")
    spool = outbox.spool(entry)
    pending = outbox.load(entry)
    if pending is None:
        sealed = transfer.seal_file(path, spool)
        descriptor = Descriptor(
            name=path.name,
            size=sealed.size,
            media_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            sha256=sealed.sha256,
            blob=secrets.token_hex(16),
            ciphertext_sha256=sealed.ciphertext_sha256,
            key=sealed.key,
            header=sealed.header,
            chunk=sealed.chunk,
            supersedes=supersedes,
        )
        pending = Pending(message or f"d-{secrets.token_hex(6)}", descriptor)
        outbox.save(entry, pending)
    d = pending.descriptor
    sealed = transfer.Sealed(d.size, d.sha256, d.ciphertext_sha256, d.key, d.header, d.chunk)
    with _bar(sealed.ciphertext_size, f"sending {d.name}", quiet=quiet) as progress:
        transfer.upload(profile.host, participant.talks_host_id, d.blob, sealed, spool, progress)
    return entry, pending


def _readable(participant: Participant, room: str | None = None) -> list[Document]:
    return documents(participant.view, participant.me, room)


@doc_app.command("send")
def send(
    alias: str = typer.Argument(..., help="The talks."),
    room: str = typer.Argument(..., help="The room."),
    file: Path = typer.Argument(..., help="The file to send."),
    label: Label = typer.Option(
        ..., "--label", help="Who may carry it: mediator-only, carry-gist or carry-verbatim."
    ),
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
        participant = unlocked.participant(alias)
        if supersedes is not None:
            older = find(_readable(participant), supersedes)
            if older.author != participant.me:
                raise DocumentInvalid(
                    f"{supersedes!r} is {older.author}'s; only its author sends a new version"
                )
        _precheck(participant, ev.Send, message, room=room, text="-", label=label)
        place = (alias, "send", room, label.value)
        entry, pending = _upload(
            unlocked, participant, file, place, supersedes, message, quiet=as_json
        )
        d = pending.descriptor
        if _unsent(participant, pending.message, d.to_text()):
            unlocked.act(
                participant,
                ev.Send,
                message=pending.message,
                room=room,
                text=d.to_text(),
                label=label,
            )
        unlocked.outbox().done(entry)
        data = {
            "talks": alias,
            "document": pending.message,
            "room": room,
            "label": label.value,
            "name": d.name,
            "size": d.size,
            "sha256": d.sha256,
            "supersedes": supersedes,
        }
        if as_json:
            emit_json(data)
        else:
            console.print(f"Sent {d.name} to {room} as {pending.message} [{label.value}].")


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
        participant = unlocked.participant(alias)
        find(_readable(participant), source)
        if mode is RelayMode.GIST and file is None:
            raise DocumentInvalid("a gist carries the mediator's own file: give --file")
        if mode is RelayMode.VERBATIM and file is not None:
            raise DocumentInvalid("a verbatim carry is the author's file: leave out --file")
        fields: dict[str, Any] = {"source": source, "room": room, "mode": mode}
        _precheck(participant, ev.Relay, message, text="-" if file else "", **fields)
        mid = message or f"d-{secrets.token_hex(6)}"
        text, entry = "", None
        if file is not None:
            place = (alias, "relay", source, room, mode.value)
            entry, pending = _upload(unlocked, participant, file, place, None, mid, quiet=as_json)
            mid, text = pending.message, pending.descriptor.to_text()
        if _unsent(participant, mid, text):
            unlocked.act(participant, ev.Relay, message=mid, text=text, **fields)
        if entry is not None:
            unlocked.outbox().done(entry)
        data = {"talks": alias, "document": mid, "source": source, "room": room, "mode": mode.value}
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
        found = _readable(participant, room)
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
        table = Table("id", "room", "author", "label", "name", "size", "sha256")
        for row in rows:
            table.add_row(
                row["id"],
                row["room"],
                row["author"],
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
        d = find(_readable(participant), document)
        if expired(participant.view, d, datetime.now(UTC)):
            days = participant.view.document_retention_days
            raise DocumentExpired(f"{document!r} is past the talks' {days}-day document retention")
        if out.exists() and not force:
            raise DocumentInvalid(f"{out} exists; give --force to replace it")
        if not out.parent.is_dir():
            raise DocumentInvalid(f"no such directory: {out.parent}")
        total = transfer.ciphertext_size_of(d.descriptor)
        with _bar(total, f"fetching {d.descriptor.name}", quiet=as_json) as progress:
            transfer.download(
                unlocked.host,
                participant.talks_host_id,
                d.descriptor,
                out,
                recipient=participant.me,
                stamp=transfer.stamp_for(d.descriptor, _visible(participant, visible)),
                progress=progress,
            )
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


def _visible(participant: Participant, shown: bool) -> pdf_copies.VisibleMark | None:
    """The visible line of this member's PDF copy: name, party, the time it is issued."""
    if not shown:
        return None
    view = participant.view
    member = view.members.get(participant.me)
    party = view.parties.get(member.party) if member is not None else None
    return pdf_copies.VisibleMark(
        member=(member.name if member is not None else "") or participant.me,
        party=(party.name or party.id) if party is not None else "",
        time=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


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
        participant = unlocked.participant(alias)
        d = find(_readable(participant), document)
        try:
            raw = leaked.read_bytes()
        except OSError as exc:
            raise DocumentInvalid(f"cannot read {leaked}: {exc.strerror}") from exc
        key = transfer.mark_key(d.descriptor)
        readers = sorted(participant.view.members)
        if raw.startswith(b"%PDF-"):
            found = pdf_copies.trace_pdf(raw, key, readers)
            holder = pdf_copies.holder(raw, key, readers)
        else:
            found = pdf_copies.trace_excerpt(raw.decode("utf-8", errors="replace"), key, readers)
            holder = None
        data = {**copies.trace_json(found), "document": d.id, "metadata_holder": holder}
        if as_json:
            emit_json(data)
        else:
            _print_trace(data)
        if found.verdict is not watermark.Verdict.IDENTIFIED:
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
        chain = versions(_readable(participant), document)
        diffs = _diffs(unlocked, participant, chain) if diff else [None] * (len(chain) - 1)
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


def _diffs(profile: Profile, participant: Participant, chain: list[Document]) -> list[str | None]:
    """Unified diffs between consecutive text versions (None where either is not text)."""
    texts: list[list[str] | None] = []
    with tempfile.TemporaryDirectory(dir=profile.path) as scratch:
        for d in chain:
            small = d.descriptor.is_text and d.descriptor.size <= MAX_DIFF_BYTES
            if not small:
                texts.append(None)
                continue
            data = transfer.fetch_bytes(
                profile.host, participant.talks_host_id, d.descriptor, Path(scratch)
            )
            texts.append(data.decode("utf-8", errors="replace").splitlines(keepends=True))
    out: list[str | None] = []
    for (a, older), (b, newer) in zip(
        zip(chain, texts, strict=True), zip(chain[1:], texts[1:], strict=True), strict=False
    ):
        if older is None or newer is None:
            out.append(None)
            continue
        lines = difflib.unified_diff(
            older, newer, f"{a.id}/{a.descriptor.name}", f"{b.id}/{b.descriptor.name}"
        )
        out.append("".join(lines))
    return out


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
