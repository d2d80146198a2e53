"""A record bundle's documents: written beside it on export, checked against it on verify.

A bundle exported ``with_content`` opens every message this device applied, so it holds every
document's descriptor — and each descriptor names its file's SHA-256 under the record's
commitment (and, carried verbatim, the author's signature). The files themselves stay out of the
bundle (they are large and the bundle is JSON): ``record export --with-content --files DIR``
writes each document this device may read, downloaded and verified, as ``DIR/<id>--<name>``;
``record verify BUNDLE --files DIR`` checks every file there against the descriptor the verified
bundle opens for it. Keys are never written: the files are the plaintext the record commits to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backchannel import engine
from backchannel.client import transfer
from backchannel.client.document import documents, expired, parse
from backchannel.client.host import HostClient
from backchannel.client.participant import Participant
from backchannel.errors import BundleInvalid


def file_name(document: str, name: str) -> str:
    """The name a document's file has beside a bundle."""
    return f"{document}--{name}"


def export_files(
    host: HostClient, participant: Participant, directory: Path
) -> list[dict[str, Any]]:
    """Download and verify every document the device may read (unexpired) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    now = datetime.now(UTC)
    for d in documents(participant.view, participant.me):
        if expired(participant.view, d, now):
            continue
        target = directory / file_name(d.id, d.descriptor.name)
        if not target.exists() or transfer.file_sha256(target) != d.descriptor.sha256:
            transfer.download(host, participant.talks_host_id, d.descriptor, target)
        written.append({"id": d.id, "file": target.name, "sha256": d.descriptor.sha256})
    return written


def check_files(view: engine.Talks, directory: Path) -> list[dict[str, Any]]:
    """Check every ``<id>--<name>`` file in ``directory`` against the descriptor of message
    ``id`` in a verified bundle's view; BundleInvalid names the first that does not match."""
    checked = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        document, sep, name = path.name.partition("--")
        message = view.messages.get(document) if sep else None
        descriptor = None if message is None else parse(message.text)
        if descriptor is None or descriptor.name != name:
            raise BundleInvalid(f"{path.name}: the bundle opens no document of that id and name")
        if transfer.file_sha256(path) != descriptor.sha256:
            raise BundleInvalid(f"{path.name}: not the file the record commits to (SHA-256)")
        checked.append({"id": document, "file": path.name, "sha256": descriptor.sha256})
    return checked
