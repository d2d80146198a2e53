"""Documents as the device reads them: messages whose body is a document descriptor.

A document is a message (a ``Send``, an offer, or a mediator's relay) whose text is a
**descriptor**: the file's name, size, media type and SHA-256, the blob the host stores its
ciphertext under, the ciphertext's SHA-256, and the secretstream key and header that open it.
The descriptor travels end to end like any message text, so the carry label applies unchanged: a
``mediator-only`` document's key never leaves its room; a ``carry-verbatim`` relay carries the
author's exact descriptor — the file's hash — under the author's signature; a ``carry-gist``
relay is the mediator's own descriptor, of its own file, linked to the source only in the
mediator's record. The record commits to each message, so to each file's hash.

Retention: once the talks set ``document_retention_days`` (``ev.SetRetention``), a document is
:func:`expired` that many days after its place in the record — judged against the later of the
record's own clock and the device's, so a device clock set back does not keep it longer — and
devices no longer fetch or open it (``doc get`` refuses; ``doc list`` marks it).

Versions: a descriptor may name the document it ``supersedes``. Only a link to a document by the
same author counts (nobody supersedes another's paper); the chain is ordered by the record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backchannel import engine
from backchannel.crypto.signed import b64, canonical_json, unb64
from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import DocumentUnknown

#: What a message's text starts with when it is a descriptor.
PREFIX = "backchannel/document/v1\n"
_FIELDS = frozenset(
    {
        "name",
        "size",
        "media_type",
        "sha256",
        "blob",
        "ciphertext_sha256",
        "key",
        "header",
        "chunk",
        "supersedes",
    }
)
#: Media types whose versions are compared line by line.
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/toml")


@dataclass(frozen=True, slots=True)
class Descriptor:
    """What a device needs to fetch, check and open one document (its key never in ``repr``)."""

    name: str
    size: int
    media_type: str
    sha256: str
    blob: str
    ciphertext_sha256: str
    key: bytes = field(repr=False)
    header: bytes
    chunk: int
    supersedes: str | None = None

    def to_text(self) -> str:
        """The descriptor as a message's text."""
        fields: dict[str, Any] = {
            "name": self.name,
            "size": self.size,
            "media_type": self.media_type,
            "sha256": self.sha256,
            "blob": self.blob,
            "ciphertext_sha256": self.ciphertext_sha256,
            "key": b64(self.key),
            "header": b64(self.header),
            "chunk": self.chunk,
            "supersedes": self.supersedes,
        }
        return PREFIX + canonical_json(fields).decode("utf-8")

    @property
    def is_text(self) -> bool:
        """Whether versions of this document can be shown as a line diff."""
        return self.media_type.startswith(TEXT_TYPES) or self.name.endswith((".md", ".txt"))


def parse(text: str) -> Descriptor | None:
    """The descriptor a message's text holds; None if the text is not a well-formed one."""
    if not text.startswith(PREFIX):
        return None
    try:
        data = json.loads(text[len(PREFIX) :])
        if not isinstance(data, dict) or set(data) != _FIELDS:
            return None
        found = Descriptor(
            name=_str(data["name"]),
            size=_int(data["size"]),
            media_type=_str(data["media_type"]),
            sha256=_str(data["sha256"]),
            blob=_str(data["blob"]),
            ciphertext_sha256=_str(data["ciphertext_sha256"]),
            key=unb64(_str(data["key"])),
            header=unb64(_str(data["header"])),
            chunk=_int(data["chunk"]),
            supersedes=None if data["supersedes"] is None else _str(data["supersedes"]),
        )
    except (ValueError, TypeError):
        return None
    if found.chunk <= 0 or len(found.key) != 32 or "/" in found.name or not found.name:
        return None
    return found


def shown(text: str, message: str, *, how: bool = True) -> str:
    """A message's text as a screen shows it: a document as its name, size and (``how``) how to
    fetch it — never its descriptor, whose key would be on the screen. The web app leaves out
    the command: its room's Documents panel fetches it."""
    found = parse(text)
    if found is None:
        return text
    said = f"[document] {found.name} ({found.size} bytes)"
    return f"{said}: backchannel doc get … {message} --out FILE" if how else said


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("not a non-negative integer")
    return value


@dataclass(frozen=True, slots=True)
class Document:
    """A document in a room, as one device may read it."""

    id: str
    room: str
    author: str
    at: datetime
    label: Label
    descriptor: Descriptor
    relay: RelayMode | None = None
    relayed_by: str | None = None


def documents(view: engine.Talks, me: str, room: str | None = None) -> list[Document]:
    """Every document ``me`` may read (in ``room``, if given), in record order."""
    found = []
    for m in engine.messages_for(view, me):
        descriptor = parse(m.text)
        if descriptor is None or (room is not None and m.room != room):
            continue
        found.append(
            Document(m.id, m.room, m.author, m.at, m.label, descriptor, m.relay, m.relayed_by)
        )
    return found


def expired(view: engine.Talks, d: Document, now: datetime) -> bool:
    """Whether the talks' retention has passed for ``d`` at ``now`` (or the record's clock, if
    later)."""
    days = view.document_retention_days
    if not days:
        return False
    latest = now if view.clock is None else max(now, view.clock)
    return latest - d.at >= timedelta(days=days)


def find(docs: Sequence[Document], document: str) -> Document:
    """The document with this id; DocumentUnknown if this device may read none."""
    for d in docs:
        if d.id == document:
            return d
    raise DocumentUnknown(f"no document {document!r} in this talks that this device may read")


def versions(docs: Sequence[Document], document: str) -> list[Document]:
    """The version chain ``document`` belongs to, oldest first: back through what each version
    superseded, then forward through what superseded it (same author only)."""
    by_id = {d.id: d for d in docs}
    current = find(docs, document)
    while current.descriptor.supersedes in by_id:
        older = by_id[current.descriptor.supersedes or ""]
        if older.author != current.author:
            break
        current = older
    chain = [current]
    seen = {current.id}
    for d in docs:  # record order: a later version comes after what it supersedes
        if d.id in seen:
            continue
        if d.descriptor.supersedes in seen and d.author == current.author:
            chain.append(d)
            seen.add(d.id)
    return chain


def document_json(d: Document) -> dict[str, Any]:
    """A document as every ``--json`` output prints it (never its key)."""
    return {
        "id": d.id,
        "room": d.room,
        "author": d.author,
        "at": d.at.isoformat(),
        "label": d.label.value,
        "name": d.descriptor.name,
        "size": d.descriptor.size,
        "media_type": d.descriptor.media_type,
        "sha256": d.descriptor.sha256,
        "supersedes": d.descriptor.supersedes,
        "relay": d.relay.value if d.relay else None,
        "relayed_by": d.relayed_by,
    }
