"""Files the page hands the app: a body streamed to disk within a limit, and its progress.

A document may be up to the document limit, far more than a JSON body, so the page sends the
file itself as the body (``application/octet-stream``; :mod:`ui.auth` says why that keeps the
cross-origin protections). :func:`receive` streams it into a private file in the profile's own
``uploads/`` directory (owner-only), counting as it goes: a declared or actual length over the
limit is refused with :class:`DocumentTooLarge` and the partial file removed, so nothing half
arrived is ever kept. The caller removes the file once it is sealed (the outbox keeps only
ciphertext); what a stopped app left behind is removed when the next one starts (:func:`sweep`).

A :class:`Job` is what the page polls while its file travels: the bytes received from the
browser, then the ciphertext bytes the host holds. Its id is chosen by the page (it must poll
before the upload's own answer comes), so a job is only a counter: it grants nothing, and it
is forgotten when its request ends.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request

from backchannel.client.transfer import Progress
from backchannel.crypto import stream
from backchannel.errors import DocumentInvalid, DocumentTooLarge, FormInvalid

#: What a job id looks like (the page makes it: random, URL-safe).
JOB_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(slots=True)
class Job:
    """One file on its way: received from the page, then sealed and moved to the host."""

    size: int | None
    phase: str = "receiving"
    received: int = 0
    moved: int = 0
    total: int = 0

    def to_json(self, job: str) -> dict[str, Any]:
        """The job as the page's progress bar reads it."""
        return {
            "job": job,
            "phase": self.phase,
            "received": self.received,
            "size": self.size,
            "moved": self.moved,
            "total": self.total,
        }


class Jobs:
    """The uploads under way, by id (updated from worker threads, read by the poll route)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    @contextmanager
    def running(self, job: str, size: int | None) -> Iterator[Job]:
        """A new job for the length of an upload request; FormInvalid if the id is in use."""
        if not JOB_ID.fullmatch(job):
            raise FormInvalid("job", "is 8 to 64 letters, digits, '-' or '_'")
        with self._lock:
            if job in self._jobs:
                raise FormInvalid("job", "is already in use")
            found = self._jobs[job] = Job(size)
        try:
            yield found
        finally:
            with self._lock:
                del self._jobs[job]

    def progress(self, job: str) -> dict[str, Any]:
        """What the page's bar shows; FormInvalid if no upload of that id is under way."""
        with self._lock:
            found = self._jobs.get(job)
            if found is None:
                raise FormInvalid("job", "no upload of this id is under way")
            return found.to_json(job)


def sealing(job: Job, size: int) -> Progress:
    """The progress callback of the seal-and-upload phase: ciphertext bytes the host holds."""
    job.phase = "sealing"
    job.total = stream.ciphertext_size(size, stream.CHUNK)

    def moved(count: int) -> None:
        job.phase = "uploading"
        job.moved += count
        if job.moved >= job.total:
            job.phase = "recording"

    return moved


def declared_size(request: Request, limit: int) -> int | None:
    """The body's declared length, refused early when it is over ``limit``."""
    given = request.headers.get("content-length")
    if given is None:
        return None
    if not given.isdigit():
        raise DocumentInvalid("The upload's Content-Length is not a number.")
    size = int(given)
    if size > limit:
        raise DocumentTooLarge(f"The file is {size} bytes; a document is at most {limit}.")
    return size


async def receive(request: Request, directory: Path, job: Job, limit: int) -> Path:
    """Stream the request's body into a new private file in ``directory``; its path.

    Over ``limit`` bytes (declared or sent) or empty: refused, and nothing is left on disk."""
    path = await anyio.to_thread.run_sync(_new_file, directory)
    try:
        async with await anyio.open_file(path, "wb") as out:
            async for piece in request.stream():
                job.received += len(piece)
                if job.received > limit:
                    raise DocumentTooLarge(f"The file is over {limit} bytes, the document limit.")
                await out.write(piece)
        if job.received == 0:
            raise DocumentInvalid("The file is empty: there is nothing to send.")
    except BaseException:
        await remove(path)
        raise
    return path


async def remove(path: Path) -> None:
    """Delete ``path`` even while the request is being cancelled (a shielded scope)."""
    with anyio.CancelScope(shield=True):
        await anyio.Path(path).unlink(missing_ok=True)


#: What the app's own scratch files and directories in a profile are named like.
SCRATCH = (".bc-upload-", ".bc-copy-", ".bc-render-")


def sweep(profile_dir: Path) -> list[str]:
    """Remove what an app that stopped mid-request left in the profile (a received file, a
    fetched copy, a render): plaintext no request can finish any more, since the profile is
    locked by one process at a time. Called when the app starts; the names removed."""
    removed = []
    for where in (profile_dir, profile_dir / "uploads"):
        if not where.is_dir():
            continue
        for path in sorted(where.iterdir()):
            if not path.name.startswith(SCRATCH):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def _new_file(directory: Path) -> Path:
    """A new empty owner-only file in ``directory`` (made owner-only if missing)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".bc-upload-", suffix=".part", dir=directory)
    os.close(fd)  # written through anyio by the caller
    return Path(name)
