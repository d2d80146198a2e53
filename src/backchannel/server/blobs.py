"""The blob routes: documents' ciphertext, uploaded and read in chunks.

Like every route: charge the caller's rate bucket, authenticate, parse, call one
:class:`~backchannel.server.host.Host` service. A blob lives in a talks; any admitted device may
read a complete one, only its uploader writes it. Chunks travel as base64 in JSON, like every
other binary value, so one request stays under the body limit.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from backchannel.server import auth
from backchannel.server.routes import authenticate, body, deps, path_id, reply
from backchannel.server.schema import Integer
from backchannel.store import Blob

#: A chunk's index in a path: bounded like the chunk count a blob may declare.
CHUNK_INDEX = Integer(0, 1_000_000)


def blob_json(blob: Blob) -> dict[str, Any]:
    """A blob's state: what it declared and which chunks are still missing."""
    return {
        "blob_id": blob.blob_id,
        "chunks": blob.chunks,
        "size": blob.size,
        "stored": blob.stored,
        "missing": blob.missing,
        "complete": blob.complete,
    }


def _index(request: Request) -> int:
    raw = request.path_params["index"]
    try:
        value = int(raw)
    except ValueError:
        value = -1
    return int(CHUNK_INDEX.parse("index", value))


async def declare_blob(request: Request) -> Response:
    """Declare a blob (chunk count and total size) before its chunks; idempotent."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.declare_blob)
    blob = await deps(request).host.declare_blob(
        device,
        path_id(request, "talks_id"),
        path_id(request, "blob_id"),
        fields["chunks"],
        fields["size"],
    )
    return reply(blob_json(blob), 201)


async def get_blob(request: Request) -> Response:
    """A blob's state: which chunks it holds (where an upload resumes)."""
    device = await authenticate(request)
    blob = await deps(request).host.blob(
        device, path_id(request, "talks_id"), path_id(request, "blob_id")
    )
    return reply(blob_json(blob))


async def put_chunk(request: Request) -> Response:
    """Store one chunk of the caller's own blob."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.put_chunk)
    blob = await deps(request).host.put_chunk(
        device,
        path_id(request, "talks_id"),
        path_id(request, "blob_id"),
        _index(request),
        fields["data"],
    )
    return reply(blob_json(blob))


async def get_chunk(request: Request) -> Response:
    """One chunk of a complete blob."""
    device = await authenticate(request)
    index = _index(request)
    data = await deps(request).host.chunk(
        device, path_id(request, "talks_id"), path_id(request, "blob_id"), index
    )
    return reply({"index": index, "data": auth.b64(data)})
