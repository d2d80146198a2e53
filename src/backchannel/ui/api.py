"""What the JSON routes of the pages' own modules share with :mod:`ui.app`'s.

A route reads a bounded body, runs its blocking call on the profile (which talks to the host) in
a worker thread, and answers JSON that no cache keeps. Errors are raised, never answered here:
the app's handlers turn them into RFC 9457 problems with their stable codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

#: The largest request body a page's route reads (as :data:`ui.app.MAX_BODY`).
MAX_BODY = 64 * 1024

_T = TypeVar("_T")


async def read_body(request: Request) -> bytes:
    """The request's body; 413 when it is larger than :data:`MAX_BODY`."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413)
    return body


async def blocking(call: Callable[[], _T]) -> _T:
    """Run a blocking call on the profile off the event loop."""
    return await anyio.to_thread.run_sync(call)


def json_response(value: Any) -> Response:
    """``value`` as JSON, never cached."""
    return JSONResponse(value, headers={"cache-control": "no-store"})
