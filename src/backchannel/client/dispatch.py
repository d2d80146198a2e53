"""Documents as a device sends, fetches and traces them: one flow for the CLI and the web app.

Sending asks the device's engine first (nothing is uploaded for an act it would refuse), seals
the file (or resumes the sealed spool of a cut send, kept in the profile's outbox), uploads what
the host is missing, then sends the descriptor as the message under its carry label. Fetching
verifies everything before writing (:func:`transfer.download`) and writes a PDF as the member's
own stamped copy. Tracing names the copy a leaked PDF or excerpt came from. Progress is a
callback: the CLI draws a Rich bar, the web app a ``<progress>`` element.

``guard``: what a caller that shares the profile between threads holds while the flow reads or
changes the profile's state (the web app's sync lock). Sealing and moving chunks touch only the
file, the outbox and the host, so they run outside it: a long upload does not stop the sync.
"""

from __future__ import annotations

import difflib
import mimetypes
import secrets
import tempfile
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backchannel import documents as pdf_copies
from backchannel import engine
from backchannel.client import copies, transfer
from backchannel.client.document import (
    Descriptor,
    Document,
    documents,
    expired,
    find,
    versions,
)
from backchannel.client.outbox import Pending
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import DocumentExpired, DocumentInvalid, DuplicateId

#: Largest text version shown in a diff (larger ones are compared by hash only).
MAX_DIFF_BYTES = 4 * 1024 * 1024
#: A guard that guards nothing (the CLI owns its profile alone).
Guard = AbstractContextManager[Any]


def readable(participant: Participant, room: str | None = None) -> list[Document]:
    """The documents this device's member may read (in ``room``, if given)."""
    return documents(participant.view, participant.me, room)


def precheck(
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


def unsent(participant: Participant, mid: str, text: str) -> bool:
    """Whether the document's message still has to be sent: False if a resumed send finds it
    already recorded; DuplicateId if the id is another message's."""
    held = participant.view.messages.get(mid)
    if held is None:
        return True
    if held.text != text:
        raise DuplicateId(f"{mid!r} is already another message's id")
    return False


def upload(
    profile: Profile,
    participant: Participant,
    path: Path,
    place: tuple[str, ...],
    supersedes: str | None,
    message: str | None,
    progress: transfer.Progress,
    *,
    name: str | None = None,
) -> tuple[str, Pending]:
    """Seal (or, after a cut, resume) and upload ``path``: its outbox entry and what to send.
    ``name``: the file's name as the room sees it (default: the path's)."""
    if not path.is_file():
        raise DocumentInvalid(f"no such file: {path}")
    if path.stat().st_size > transfer.MAX_DOCUMENT_BYTES:
        raise DocumentInvalid(
            f"{name or path.name} is {path.stat().st_size} bytes; a document is at most "
            f"{transfer.MAX_DOCUMENT_BYTES}"
        )
    shown = name or path.name
    outbox = profile.outbox()
    entry = outbox.entry(transfer.file_sha256(path), *place, supersedes or "")
    spool = outbox.spool(entry)
    pending = outbox.load(entry)
    if pending is None:
        sealed = transfer.seal_file(path, spool)
        descriptor = Descriptor(
            name=shown,
            size=sealed.size,
            media_type=mimetypes.guess_type(shown)[0] or "application/octet-stream",
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
    transfer.upload(profile.host, participant.talks_host_id, d.blob, sealed, spool, progress)
    return entry, pending


def check_send(
    participant: Participant,
    room: str,
    label: Label,
    supersedes: str | None = None,
    message: str | None = None,
) -> None:
    """Refuse, before any byte is read or uploaded, a document the engine would not let this
    member send into ``room`` under ``label``, or a new version of another member's document."""
    if supersedes is not None:
        older = find(readable(participant), supersedes)
        if older.author != participant.me:
            raise DocumentInvalid(
                f"{supersedes!r} is {older.author}'s; only its author sends a new version"
            )
    precheck(participant, ev.Send, message, room=room, text="-", label=label)


def send(
    profile: Profile,
    alias: str,
    room: str,
    path: Path,
    label: Label,
    progress: transfer.Progress,
    *,
    supersedes: str | None = None,
    message: str | None = None,
    name: str | None = None,
    guard: Guard | None = None,
) -> dict[str, Any]:
    """Send the file at ``path`` into ``room`` as a document under ``label``; what was sent."""
    guard = guard or nullcontext()
    with guard:
        participant = profile.participant(alias)
        check_send(participant, room, label, supersedes, message)
    place = (alias, "send", room, label.value)
    entry, pending = upload(
        profile, participant, path, place, supersedes, message, progress, name=name
    )
    d = pending.descriptor
    with guard:
        if unsent(participant, pending.message, d.to_text()):
            profile.act(
                participant,
                ev.Send,
                message=pending.message,
                room=room,
                text=d.to_text(),
                label=label,
            )
    profile.outbox().done(entry)
    return {
        "talks": alias,
        "document": pending.message,
        "room": room,
        "label": label.value,
        "name": d.name,
        "size": d.size,
        "sha256": d.sha256,
        "supersedes": supersedes,
    }


def relay(
    profile: Profile,
    alias: str,
    source: str,
    room: str,
    mode: RelayMode,
    progress: transfer.Progress,
    *,
    path: Path | None = None,
    message: str | None = None,
    name: str | None = None,
    guard: Guard | None = None,
) -> dict[str, Any]:
    """Carry document ``source`` into ``room``, as its label allows (the engine decides):
    verbatim, the author's own descriptor under the author's signature; as a gist, the
    mediator's own file at ``path``, sealed and uploaded first."""
    guard = guard or nullcontext()
    if mode is RelayMode.GIST and path is None:
        raise DocumentInvalid("a gist carries the mediator's own file: give one")
    if mode is RelayMode.VERBATIM and path is not None:
        raise DocumentInvalid("a verbatim carry is the author's file: give none of your own")
    fields: dict[str, Any] = {"source": source, "room": room, "mode": mode}
    with guard:
        participant = profile.participant(alias)
        find(readable(participant), source)
        precheck(participant, ev.Relay, message, text="-" if path else "", **fields)
    mid = message or f"d-{secrets.token_hex(6)}"
    text, entry = "", None
    if path is not None:
        place = (alias, "relay", source, room, mode.value)
        entry, pending = upload(profile, participant, path, place, None, mid, progress, name=name)
        mid, text = pending.message, pending.descriptor.to_text()
    with guard:
        if unsent(participant, mid, text):
            profile.act(participant, ev.Relay, message=mid, text=text, **fields)
    if entry is not None:
        profile.outbox().done(entry)
    return {"talks": alias, "document": mid, "source": source, "room": room, "mode": mode.value}


def visible_mark(participant: Participant, at: datetime) -> pdf_copies.VisibleMark:
    """The visible line of this member's PDF copy: name, party, the time it is issued."""
    view = participant.view
    member = view.members.get(participant.me)
    party = view.parties.get(member.party) if member is not None else None
    return pdf_copies.VisibleMark(
        member=(member.name if member is not None else "") or participant.me,
        party=(party.name or party.id) if party is not None else "",
        time=at.strftime("%Y-%m-%d %H:%M UTC"),
    )


def openable(participant: Participant, d: Document, now: datetime) -> None:
    """Refuse a document past the talks' retention (devices no longer open it)."""
    if expired(participant.view, d, now):
        days = participant.view.document_retention_days
        raise DocumentExpired(f"{d.id!r} is past the talks' {days}-day document retention")


def fetch(
    profile: Profile,
    alias: str,
    document: str,
    out: Path,
    progress: transfer.Progress,
    *,
    visible: bool = True,
    guard: Guard | None = None,
) -> Document:
    """Fetch and verify ``document`` into ``out``; a PDF as this member's stamped copy."""
    with guard or nullcontext():
        participant = profile.participant(alias)
        d = find(readable(participant), document)
        now = datetime.now(UTC)
        openable(participant, d, now)
        mark = visible_mark(participant, now) if visible else None
    transfer.download(
        profile.host,
        participant.talks_host_id,
        d.descriptor,
        out,
        recipient=participant.me,
        stamp=transfer.stamp_for(d.descriptor, mark),
        progress=progress,
    )
    return d


def trace(profile: Profile, alias: str, document: str, leaked: bytes) -> dict[str, Any]:
    """Whose copy of ``document`` the leaked PDF (or UTF-8 excerpt) is, with the chance of a
    false match, and whose copy id the file's metadata holds (None if stripped, or not a PDF)."""
    participant = profile.participant(alias)
    d = find(readable(participant), document)
    key = transfer.mark_key(d.descriptor)
    readers = sorted(participant.view.members)
    if leaked.startswith(b"%PDF-"):
        found = pdf_copies.trace_pdf(leaked, key, readers)
        holder = pdf_copies.holder(leaked, key, readers)
    else:
        found = pdf_copies.trace_excerpt(leaked.decode("utf-8", errors="replace"), key, readers)
        holder = None
    return {**copies.trace_json(found), "document": d.id, "metadata_holder": holder}


def text_lines(
    profile: Profile, participant: Participant, d: Document, scratch: Path
) -> list[str] | None:
    """A text version's lines (verified bytes, as UTF-8); None if it is not text, too large to
    compare, or past the talks' retention (devices no longer open it)."""
    if not d.descriptor.is_text or d.descriptor.size > MAX_DIFF_BYTES:
        return None
    if expired(participant.view, d, datetime.now(UTC)):
        return None
    data = transfer.fetch_bytes(profile.host, participant.talks_host_id, d.descriptor, scratch)
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def unified(older: Document, old: list[str], newer: Document, new: list[str]) -> str:
    """The unified diff from one text version to the next, each named ``id/name``."""
    a, b = f"{older.id}/{older.descriptor.name}", f"{newer.id}/{newer.descriptor.name}"
    return "".join(difflib.unified_diff(old, new, a, b))


def diffs(profile: Profile, participant: Participant, chain: list[Document]) -> list[str | None]:
    """Unified diffs between consecutive text versions (None where either is not text)."""
    with tempfile.TemporaryDirectory(dir=profile.path) as scratch:
        texts = [text_lines(profile, participant, d, Path(scratch)) for d in chain]
    out: list[str | None] = []
    for i in range(1, len(chain)):
        old, new = texts[i - 1], texts[i]
        out.append(
            None if old is None or new is None else unified(chain[i - 1], old, chain[i], new)
        )
    return out


def chain_of(participant: Participant, document: str) -> list[Document]:
    """The versions of ``document`` this device may read, oldest first."""
    return versions(readable(participant), document)
