"""Moving a document's bytes: seal a file to a ciphertext spool, upload it, download and verify.

Upload: :func:`seal_file` encrypts the file (:mod:`backchannel.crypto.stream`) into a spool of
ciphertext beside the profile, hashing plaintext and ciphertext on the way; :func:`upload`
declares the blob and sends the chunks the host says it is missing, so calling it again after a
cut resumes. Download: :func:`download` fetches ciphertext chunks into ``OUT.<blob>.bcpart``
(kept, so a cut download resumes where it stopped). Only when every chunk has its expected
length and the whole ciphertext its expected SHA-256 does it decrypt — each chunk authenticated
by the stream, the final tag required, the padding zero, the plaintext's SHA-256 the
descriptor's — into a private temporary file renamed onto ``OUT`` last. A fault anywhere leaves
``OUT`` untouched and raises; the device never shows bytes it did not verify.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ParamSpec, TypeVar

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from backchannel import documents
from backchannel.client.document import Descriptor
from backchannel.client.host import BlobState, HostClient
from backchannel.crypto import stream
from backchannel.documents import VisibleMark
from backchannel.errors import DecryptionFailed, DocumentCorrupt, DocumentInvalid, HostRefused

#: The largest file sent as a document (the host's blob limit holds it padded).
MAX_DOCUMENT_BYTES = 128 * 1024 * 1024
#: Called with the bytes just moved (for a progress bar).
Progress = Callable[[int], None]
#: Makes a recipient's copy of a downloaded file (e.g. a stamped PDF); identity by default.
Stamp = Callable[[bytes, str], bytes]


T = TypeVar("T")
P = ParamSpec("P")
#: How often a chunk request refused by the host's rate limit is tried again, a second apart.
RATE_RETRIES = 30
#: Chunk uploads in flight at once.
IN_FLIGHT = 4


def _patiently(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``call(*args)``, waiting out the host's rate limit: a document is many requests in a row,
    more than the default burst, and each refused one succeeds a moment later."""
    for attempt in range(RATE_RETRIES):
        try:
            return call(*args, **kwargs)
        except HostRefused as exc:
            if exc.detail.get("code") != "rate.limited" or attempt == RATE_RETRIES - 1:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")  # pragma: no cover


def unstamped(data: bytes, recipient: str) -> bytes:
    """The file as it is: the default :data:`Stamp`."""
    return data


def _nothing(moved: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Sealed:
    """A file sealed into a spool: what its descriptor and its upload need."""

    size: int
    sha256: str
    ciphertext_sha256: str
    key: bytes = field(repr=False)
    header: bytes
    chunk: int

    @property
    def chunks(self) -> int:
        """How many chunks the blob has."""
        return stream.chunk_count(self.size, self.chunk)

    @property
    def ciphertext_size(self) -> int:
        """The blob's total bytes."""
        return stream.ciphertext_size(self.size, self.chunk)


def ciphertext_size_of(descriptor: Descriptor) -> int:
    """The bytes a download of this document moves."""
    return stream.ciphertext_size(descriptor.size, descriptor.chunk)


def is_pdf(descriptor: Descriptor) -> bool:
    """Whether the document is a PDF, and so gets per-recipient stamped copies."""
    return descriptor.media_type == "application/pdf" or descriptor.name.lower().endswith(".pdf")


def mark_key(descriptor: Descriptor) -> bytes:
    """The key a document's copies are marked under: derived from its own key (BLAKE2b keyed,
    through libsodium), so every device the document reached can trace a leaked copy of it and
    no one else can; the document key itself never marks anything."""
    return blake2b(b"", key=descriptor.key, person=b"bc-doc-mark-v1", encoder=RawEncoder)


def stamp_for(descriptor: Descriptor, visible: VisibleMark | None = None) -> Stamp:
    """How a recipient's copy of this document is made: a PDF is stamped for the recipient (the
    hidden marks always, the visible line when given); any other file is copied as it is."""
    if not is_pdf(descriptor):
        return unstamped
    key = mark_key(descriptor)

    def stamped(data: bytes, recipient: str) -> bytes:
        return documents.stamp(data, key, recipient, visible)

    return stamped


def _chunk_lengths(size: int, chunk: int) -> Iterator[int]:
    """Each chunk's ciphertext length, in order (they follow from the size alone)."""
    padded = stream.padded_size(size)
    for i in range(stream.chunk_count(size, chunk)):
        yield min(chunk, padded - i * chunk) + stream.ABYTES


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for piece in iter(lambda: f.read(stream.CHUNK), b""):
            digest.update(piece)
    return digest.hexdigest()


def seal_file(
    source: Path, spool: Path, *, chunk: int = stream.CHUNK, limit: int = MAX_DOCUMENT_BYTES
) -> Sealed:
    """Encrypt ``source`` under a fresh key into ``spool``; DocumentInvalid if it is not a
    readable regular file within ``limit`` bytes, or changed while it was read."""
    try:
        size = source.stat().st_size
        if not source.is_file():
            raise DocumentInvalid(f"{source} is not a regular file")
        if size > limit:
            raise DocumentInvalid(f"{source.name} is {size} bytes; a document is at most {limit}")
        key = stream.new_key()
        sealer = stream.Sealer(key)
        plain, cipher = hashlib.sha256(), hashlib.sha256()
        left = size
        with source.open("rb") as src, spool.open("wb") as out:
            lengths = list(_chunk_lengths(size, chunk))
            for i, length in enumerate(lengths):
                want = length - stream.ABYTES
                piece = src.read(min(want, left))
                if len(piece) != min(want, left):
                    raise DocumentInvalid(f"{source.name} changed while it was read")
                left -= len(piece)
                plain.update(piece)
                sealed = sealer.seal(piece + bytes(want - len(piece)), final=i == len(lengths) - 1)
                cipher.update(sealed)
                out.write(sealed)
            if src.read(1):
                raise DocumentInvalid(f"{source.name} changed while it was read")
    except OSError as exc:
        spool.unlink(missing_ok=True)
        raise DocumentInvalid(f"cannot read {source}: {exc.strerror}") from exc
    except DocumentInvalid:
        spool.unlink(missing_ok=True)
        raise
    return Sealed(size, plain.hexdigest(), cipher.hexdigest(), key, sealer.header, chunk)


def upload(
    host: HostClient,
    talks_id: str,
    blob: str,
    sealed: Sealed,
    spool: Path,
    progress: Progress = _nothing,
) -> None:
    """Send the spool's chunks the host does not hold yet (all of them, the first time)."""
    state = _patiently(host.declare_blob, talks_id, blob, sealed.chunks, sealed.ciphertext_size)
    lengths = list(_chunk_lengths(sealed.size, sealed.chunk))
    offsets = [0, *itertools.accumulate(lengths)]
    progress(sum(lengths) - sum(lengths[i] for i in state.missing))
    complete = state.complete
    # A few chunks in flight at once: this device encodes the next while the host stores the
    # last. Each chunk is its own idempotent request, so the order they land in is irrelevant,
    # and a cut upload resumes from whatever the host holds (``state.missing``).
    with spool.open("rb") as f, ThreadPoolExecutor(IN_FLIGHT) as pool:
        pending: dict[Future[BlobState], int] = {}
        for index in state.missing:
            f.seek(offsets[index])
            data = f.read(lengths[index])
            sent = pool.submit(_patiently, host.put_chunk, talks_id, blob, index, data)
            pending[sent] = len(data)
            if len(pending) >= IN_FLIGHT:
                complete = _settle(pending, progress, FIRST_COMPLETED) or complete
        complete = _settle(pending, progress, ALL_COMPLETED) or complete
    # Answers to chunks in flight together may each predate another's: ask once more.
    if not complete and not _patiently(host.blob_state, talks_id, blob).complete:
        raise HostRefused("the host did not keep every chunk of the document")


def _append(spool: BinaryIO, data: bytes, i: int, lengths: list[int], have: int) -> int:
    """Write chunk ``i`` at the spool's end if it has its length (else nothing is kept of it);
    the bytes held after it."""
    if len(data) != lengths[i]:
        spool.truncate(have)
        raise DocumentCorrupt(
            f"the host returned chunk {i} of another blob ({len(data)} bytes, "
            f"expected {lengths[i]}); nothing was written"
        )
    spool.write(data)
    return have + len(data)


def _settle(pending: dict[Future[BlobState], int], progress: Progress, until: str) -> bool:
    """Wait for chunks in flight (``until`` the first or all have landed), reporting each;
    whether an answer said the blob is complete. A refused chunk's error is raised."""
    finished, _ = wait(pending, return_when=until)
    complete = False
    for future in finished:
        complete = future.result().complete or complete
        progress(pending.pop(future))
    return complete


def download(
    host: HostClient,
    talks_id: str,
    descriptor: Descriptor,
    out: Path,
    *,
    recipient: str = "",
    stamp: Stamp = unstamped,
    progress: Progress = _nothing,
) -> None:
    """Fetch, verify and open a document into ``out`` (resuming a cut download)."""
    # Named for the blob too: a stale part of another document is never taken for this one's.
    part = out.with_name(f"{out.name}.{descriptor.blob[:12]}.bcpart")
    lengths = list(_chunk_lengths(descriptor.size, descriptor.chunk))
    with part.open("ab+") as spool:
        index, have = _held(spool, lengths)
        progress(have)
        # As uploads: a few chunks fetched ahead, written strictly in order.
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            ahead = (
                pool.submit(_patiently, host.get_chunk, talks_id, descriptor.blob, i)
                for i in range(index, len(lengths))
            )
            window = deque(itertools.islice(ahead, IN_FLIGHT))
            for i in range(index, len(lengths)):
                data = window.popleft().result()
                window.extend(itertools.islice(ahead, 1))
                have = _append(spool, data, i, lengths, have)
                progress(len(data))
        spool.flush()
    try:
        plaintext = _open_spool(part, descriptor, lengths)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    try:
        data = plaintext.read_bytes()
        copy = stamp(data, recipient)
        if copy is not data:
            plaintext.write_bytes(copy)
        os.replace(plaintext, out)
    finally:
        plaintext.unlink(missing_ok=True)
    part.unlink(missing_ok=True)


def _held(spool: BinaryIO, lengths: list[int]) -> tuple[int, int]:
    """How many whole chunks a partial download holds, and their bytes (a torn tail is cut)."""
    spool.seek(0, os.SEEK_END)
    size = spool.tell()
    index = have = 0
    while index < len(lengths) and have + lengths[index] <= size:
        have += lengths[index]
        index += 1
    spool.truncate(have)
    spool.seek(have)
    return index, have


def _open_spool(part: Path, descriptor: Descriptor, lengths: list[int]) -> Path:
    """Check the whole ciphertext's hash, then decrypt and check the plaintext into a private
    temporary file beside ``part`` (removed on any failure); return its path."""
    cipher = hashlib.sha256()
    with part.open("rb") as f:
        for piece in iter(lambda: f.read(stream.CHUNK), b""):
            cipher.update(piece)
    if cipher.hexdigest() != descriptor.ciphertext_sha256:
        raise DocumentCorrupt("the host returned another document's bytes; nothing was written")
    fd, name = tempfile.mkstemp(prefix=".bc-", suffix=".part", dir=part.parent)
    temp = Path(name)
    try:
        opener = stream.Opener(descriptor.key, descriptor.header)
        plain = hashlib.sha256()
        left = descriptor.size
        with part.open("rb") as src, os.fdopen(fd, "wb") as dst:
            for length in lengths:
                chunk = opener.open(src.read(length))
                body, padding = chunk[:left], chunk[left:]
                if padding.strip(b"\0"):
                    raise DecryptionFailed("the document's padding is not zero")
                left -= len(body)
                plain.update(body)
                dst.write(body)
            opener.finish()
        if left or plain.hexdigest() != descriptor.sha256:
            raise DocumentCorrupt("the opened file does not have the hash its author sent")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def fetch_bytes(host: HostClient, talks_id: str, descriptor: Descriptor, scratch: Path) -> bytes:
    """A document's verified bytes in memory (for a diff), through a scratch directory."""
    target = scratch / f"{descriptor.blob}.bin"
    download(host, talks_id, descriptor, target)
    try:
        return target.read_bytes()
    finally:
        target.unlink(missing_ok=True)
