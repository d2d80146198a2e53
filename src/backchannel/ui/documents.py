"""The Documents panel's API: each room's documents, sent, viewed, fetched, carried and traced.

    GET  /api/documents?talks=…&room=…      the room's documents as version chains (newest
                                            first), and the carry labels the room allows
    POST /api/documents/upload?talks=…&room=…&name=…&label=…[&supersedes=…][&job=…]
                                            the file itself as the body (application/octet-
                                            stream): sealed and sent as ``doc send`` does; with
                                            ``source=…`` instead of ``label``, the mediator's
                                            own file carried as a gist of ``source`` into
                                            ``room`` (``doc relay --mode gist --file``)
    GET  /api/documents/progress?job=…      the bytes received, then those the host holds
    POST /api/documents/relay               {talks, source, room}: carried word for word
    GET  /api/documents/download?talks=…&document=…   my copy (a PDF stamped for me), as bytes
    GET  /api/documents/view?talks=…&document=…       a PDF's page count, or a text version
                                                      and its diff against the previous one
    GET  /api/documents/page?talks=…&document=…&page=N   one page of my stamped copy, PNG
    POST /api/documents/trace?talks=…&document=…      a leaked PDF or excerpt as the body
                                                      (octet-stream): whose copy it is

Every route is thin over :mod:`backchannel.client.dispatch`, the flow the CLI's ``doc``
commands run, so the panel can do exactly what ``doc send|relay|list|get|versions|trace`` do and
the device's engine decides every act. An upload reads no byte before the engine has accepted
the send (:func:`dispatch.check_send`); the file streams to the profile's ``uploads/`` within
the document limit (:mod:`ui.uploads`), and is removed whatever happens once it is sealed.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backchannel.client import dispatch, transfer
from backchannel.client.document import Document, document_json, expired, find, versions
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import (
    BackchannelError,
    DocumentTooLarge,
    FormInvalid,
    MediaTypeUnsupported,
    NotRoomMember,
    UnknownEntity,
)
from backchannel.ui import rendering, uploads
from backchannel.ui.api import blocking, form_action, json_response
from backchannel.ui.feed import Notice
from backchannel.ui.forms import choice_field, json_object, text_field
from backchannel.ui.session import DeviceSession
from backchannel.ui.state import carriable, carry_modes, is_mediating

#: The largest file the panel sends (the documents' own limit).
MAX_UPLOAD = transfer.MAX_DOCUMENT_BYTES
#: The largest leaked file the panel traces (a stamped copy of a document at the limit).
MAX_LEAK = transfer.MAX_DOCUMENT_BYTES
#: The routes whose body is a file (``application/octet-stream``), for :class:`ui.auth.TokenGate`.
BINARY = ("/api/documents/upload", "/api/documents/trace")

_T = TypeVar("_T")


def routes(session: DeviceSession) -> list[Route]:
    """The panel's routes over ``session`` (sweeping what a stopped app left in the profile)."""
    uploads.sweep(session.profile.path)
    jobs = uploads.Jobs()
    cache = rendering.Cache()

    async def listing(request: Request) -> Response:
        query = _query(request, ("talks", "room"))
        return json_response(await blocking(lambda: room_documents(session, *query)))

    async def upload(request: Request) -> Response:
        _file_body(request)
        form = parse_upload(dict(request.query_params))
        await blocking(lambda: check_upload(session, form))  # refused: not a byte is read
        size = uploads.declared_size(request, MAX_UPLOAD)
        with jobs.running(form.job, size) as job:
            path = await uploads.receive(request, _uploads(session), job, MAX_UPLOAD)
            try:
                sent = await blocking(lambda: send_file(session, form, path, job))
            finally:
                await uploads.remove(path)  # sealed into the outbox, or refused: either way
        return json_response(sent)

    async def progress(request: Request) -> Response:
        (job,) = _query(request, ("job",))
        return json_response(jobs.progress(job))

    async def download(request: Request) -> Response:
        alias, document = _query(request, ("talks", "document"))
        name, data = await blocking(lambda: my_copy(session, alias, document))
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"content-disposition": _attachment(name), "cache-control": "no-store"},
        )

    async def view(request: Request) -> Response:
        alias, document = _query(request, ("talks", "document"))
        return json_response(await blocking(lambda: view_json(session, cache, alias, document)))

    async def page(request: Request) -> Response:
        alias, document, number = _query(request, ("talks", "document", "page"))
        image = await blocking(lambda: page_png(session, cache, alias, document, number))
        return Response(image, media_type="image/png", headers={"cache-control": "no-store"})

    async def trace(request: Request) -> Response:
        _file_body(request)
        alias, document = _query(request, ("talks", "document"))
        leaked = await read_file(request, MAX_LEAK)
        return json_response(await blocking(lambda: trace_json(session, alias, document, leaked)))

    return [
        Route("/api/documents", listing, methods=["GET"]),
        Route("/api/documents/upload", upload, methods=["POST"]),
        Route("/api/documents/progress", progress, methods=["GET"]),
        form_action("/api/documents/relay", parse_relay, lambda form: relay(session, form)),
        Route("/api/documents/download", download, methods=["GET"]),
        Route("/api/documents/view", view, methods=["GET"]),
        Route("/api/documents/page", page, methods=["GET"]),
        Route("/api/documents/trace", trace, methods=["POST"]),
    ]


# --- requests ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadForm:
    """Send a file into ``room`` under ``label`` (perhaps as a new version of ``supersedes``),
    or, with ``source``, carry it as the mediator's gist of that document."""

    talks: str
    room: str
    name: str
    label: Label | None
    supersedes: str | None
    source: str | None
    job: str


_UPLOAD_FIELDS = ("talks", "room", "name", "label", "supersedes", "source", "job")


def parse_upload(query: dict[str, str]) -> UploadForm:
    """An upload's parameters (the query: the body is the file); FormInvalid names a bad one.
    The carry label is never defaulted; a gist carries no label of its own (its source's
    decides) and supersedes nothing."""
    unknown = sorted(set(query) - set(_UPLOAD_FIELDS))
    if unknown:
        raise FormInvalid(unknown[0], "is not a field of this request")
    name = text_field(query, "name")
    if any(c in name for c in "/\\") or not name.isprintable() or name.strip() != name:
        raise FormInvalid("name", "is a file's name: no '/', '\\', control characters or edges")
    source = text_field(query, "source", required=False) or None
    if source is not None and ("label" in query or "supersedes" in query):
        raise FormInvalid("label", "a gist takes its source's label and supersedes nothing")
    label = None
    if source is None:
        label = choice_field(query, "label", Label, "choose a carry label: none is chosen for you")
    return UploadForm(
        talks=text_field(query, "talks"),
        room=text_field(query, "room"),
        name=name,
        label=label,
        supersedes=text_field(query, "supersedes", required=False) or None,
        source=source,
        job=query.get("job") or secrets.token_urlsafe(12),
    )


def parse_relay(body: bytes) -> tuple[str, str, str]:
    """A word-for-word carry: the talks, the document and the room to carry it into."""
    data = json_object(body, ("talks", "source", "room"))
    return text_field(data, "talks"), text_field(data, "source"), text_field(data, "room")


def _file_body(request: Request) -> None:
    """Refuse a file route's body unless it is sent as a file (the gate lets JSON through)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/octet-stream":
        raise MediaTypeUnsupported("This route reads the file itself: application/octet-stream.")


def _query(request: Request, names: tuple[str, ...]) -> list[str]:
    """The required query parameters ``names``, and no other; FormInvalid names a bad one."""
    given = dict(request.query_params)
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise FormInvalid(unknown[0], "is not a field of this request")
    return [text_field(given, name) for name in names]


async def read_file(request: Request, limit: int) -> bytes:
    """A file body in memory, within ``limit`` (413 ``document.too_large`` beyond it)."""
    uploads.declared_size(request, limit)
    taken = bytearray()
    async for piece in request.stream():
        taken += piece
        if len(taken) > limit:
            raise DocumentTooLarge(f"The file is over {limit} bytes.")
    return bytes(taken)


def _attachment(name: str) -> str:
    """A Content-Disposition naming the file (ASCII fallback, and the name itself in UTF-8)."""
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    return f"attachment; filename=\"{plain or 'document'}\"; filename*=UTF-8''{quote(name)}"


def _uploads(session: DeviceSession) -> Path:
    return session.profile.path / "uploads"


# --- what the routes do ---------------------------------------------------------------------------


def room_documents(session: DeviceSession, alias: str, room: str) -> dict[str, Any]:
    """The room's documents this device may read, each chain of versions newest first, and,
    per carry label, None if this member may send a document under it there, else the
    engine's refusal."""
    with session.sync.lock:
        participant = session.profile.participant(alias)
        view, me = participant.view, participant.me
        found = view.rooms.get(room)
        if found is None:
            raise UnknownEntity(f"no room {room!r} in {alias}")
        if me not in found.members:
            raise NotRoomMember(f"{me} is not in {room!r}")
        docs = dispatch.readable(participant, room)
        labels: dict[str, dict[str, str] | None] = {}
        for label in Label:
            try:
                dispatch.precheck(participant, ev.Send, None, room=room, text="-", label=label)
                labels[label.value] = None
            except BackchannelError as refused:
                labels[label.value] = {"code": refused.code, "message": refused.message}
        mediating = is_mediating(view, me)
        now = datetime.now(UTC)

        def entry(d: Document) -> dict[str, Any]:
            carry = carriable(d.author, d.relay, me, mediating)
            return {
                **document_json(d),
                "expired": expired(view, d, now),
                "pdf": transfer.is_pdf(d.descriptor),
                "text": d.descriptor.is_text,
                "mine": d.author == me,
                "relay_modes": carry_modes(d.label) if carry else [],
            }

        chains: dict[str, list[Document]] = {}
        for d in docs:
            chain = versions(docs, d.id)
            chains.setdefault(chain[0].id, chain)
        listed = sorted(chains.values(), key=lambda c: docs.index(c[-1]), reverse=True)
    return {
        "talks": alias,
        "room": room,
        "me": me,
        "mediating": mediating,
        "labels": labels,
        "limit": MAX_UPLOAD,
        "documents": [
            {**entry(chain[-1]), "versions": [entry(d) for d in reversed(chain)]}
            for chain in listed
        ],
    }


def check_upload(session: DeviceSession, form: UploadForm) -> None:
    """The engine's verdict on the send (or gist) before the file is read."""
    with session.sync.lock:
        participant = session.profile.participant(form.talks)
        if form.source is None:
            assert form.label is not None
            dispatch.check_send(participant, form.room, form.label, form.supersedes)
        else:
            find(dispatch.readable(participant), form.source)
            fields: dict[str, Any] = {"source": form.source, "room": form.room}
            dispatch.precheck(participant, ev.Relay, None, text="-", mode=RelayMode.GIST, **fields)


def send_file(
    session: DeviceSession, form: UploadForm, path: Path, job: uploads.Job
) -> dict[str, Any]:
    """Seal, upload and send the received file (outside the lock but for the engine's parts)."""
    progress = uploads.sealing(job, path.stat().st_size)
    lock = session.sync.lock
    if form.source is None:
        assert form.label is not None
        sent = dispatch.send(
            session.profile,
            form.talks,
            form.room,
            path,
            form.label,
            progress,
            supersedes=form.supersedes,
            name=form.name,
            guard=lock,
        )
    else:
        sent = dispatch.relay(
            session.profile,
            form.talks,
            form.source,
            form.room,
            RelayMode.GIST,
            progress,
            path=path,
            name=form.name,
            guard=lock,
        )
    job.phase = "done"
    _changed(session, form.talks)
    return sent


def relay(session: DeviceSession, form: tuple[str, str, str]) -> dict[str, Any]:
    """Carry a document word for word (the engine refuses what its label forbids)."""
    alias, source, room = form
    carried = dispatch.relay(
        session.profile, alias, source, room, RelayMode.VERBATIM, _ignore, guard=session.sync.lock
    )
    _changed(session, alias)
    return carried


def my_copy(session: DeviceSession, alias: str, document: str) -> tuple[str, bytes]:
    """This member's verified copy (a PDF stamped for them, as ``doc get``): name and bytes."""
    return _fetched(session, alias, document, lambda d, data: (d.descriptor.name, data))


def view_json(
    session: DeviceSession, cache: rendering.Cache, alias: str, document: str
) -> dict[str, Any]:
    """What the panel shows of a document: a PDF's pages (rendered from my stamped copy), a
    text version and its diff against the version before it, or nothing to show."""
    with session.sync.lock:
        participant = session.profile.participant(alias)
        chain = dispatch.chain_of(participant, document)
        at = [d.id for d in chain].index(document)
        d = chain[at]
        dispatch.openable(participant, d, datetime.now(UTC))
        pdf = transfer.is_pdf(d.descriptor)
    if pdf:  # fetched and rendered outside the lock: the sync goes on meanwhile
        found = _rendered(session, cache, alias, document)
        return {"document": document, "kind": "pdf", "pages": found.pages}
    with session.sync.lock:
        if not d.descriptor.is_text:
            return {"document": document, "kind": "none"}
        with tempfile.TemporaryDirectory(prefix=".bc-copy-", dir=session.profile.path) as scratch:
            lines = dispatch.text_lines(session.profile, participant, d, Path(scratch))
            older = chain[at - 1] if at > 0 else None
            old = None
            if older is not None:
                old = dispatch.text_lines(session.profile, participant, older, Path(scratch))
    if lines is None:
        return {"document": document, "kind": "none"}
    diff = None if older is None or old is None else dispatch.unified(older, old, d, lines)
    return {
        "document": document,
        "kind": "text",
        "text": "".join(lines),
        "previous": older.id if older is not None else None,
        "diff": diff,
    }


def page_png(
    session: DeviceSession, cache: rendering.Cache, alias: str, document: str, number: str
) -> bytes:
    """Page ``number`` (from 1) of my stamped copy of a PDF document, as PNG."""
    found = _rendered(session, cache, alias, document)
    if not number.isdigit() or not 1 <= int(number) <= found.pages:
        raise FormInvalid("page", f"is a page number from 1 to {found.pages}")
    page = int(number)
    image = found.images.get(page)
    if image is None:
        image = rendering.render_page(found.pdf, page, session.profile.path)
        if len(found.images) < rendering.KEPT_PAGES:  # a long PDF's later pages: rendered again
            found.images[page] = image
    return image


def trace_json(session: DeviceSession, alias: str, document: str, leaked: bytes) -> dict[str, Any]:
    """Whose copy a leaked PDF or excerpt is, as ``doc trace --json`` prints it."""
    if not leaked.strip():
        raise FormInvalid("body", "drop the leaked PDF or paste an excerpt first")
    with session.sync.lock:
        return dispatch.trace(session.profile, alias, document, leaked)


def _rendered(
    session: DeviceSession, cache: rendering.Cache, alias: str, document: str
) -> rendering.Rendered:
    """My stamped copy of a PDF document, kept for its pages (fetched once)."""
    with session.sync.lock:
        key = (alias, document, session.profile.participant(alias).me)
    found = cache.get(key)
    if found is None:
        found = _fetched(session, alias, document, lambda d, data: rendering.prepared(data))
        cache.put(key, found)
    return found


def _fetched(
    session: DeviceSession, alias: str, document: str, use: Callable[[Document, bytes], _T]
) -> _T:
    """``use(document, bytes)`` of this member's verified copy, fetched (and, a PDF, stamped
    for them) through a private scratch file in the profile that is gone on return."""
    profile = session.profile
    with tempfile.TemporaryDirectory(prefix=".bc-copy-", dir=profile.path) as scratch:
        out = Path(scratch) / "copy"
        d = dispatch.fetch(profile, alias, document, out, _ignore, guard=session.sync.lock)
        return use(d, out.read_bytes())


def _changed(session: DeviceSession, alias: str) -> None:
    session.feed.publish(Notice("changed", {"talks": [alias]}))


def _ignore(moved: int) -> None:
    return None
