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
from starlette.routing import Route

#: The largest request body a page's route reads (as :data:`ui.app.MAX_BODY`).
MAX_BODY = 64 * 1024

_T = TypeVar("_T")
_Form = TypeVar("_Form")


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


def talks_view(path: str, answer: Callable[[str | None], Any]) -> Route:
    """A GET route answering ``answer(talks)`` as JSON, ``talks`` the optional query parameter
    naming one talks (None: every talks of the device)."""

    async def endpoint(request: Request) -> Response:
        alias = request.query_params.get("talks")
        return json_response(await blocking(lambda: answer(alias)))

    return Route(path, endpoint, methods=["GET"])


def form_action(path: str, parse: Callable[[bytes], _Form], act: Callable[[_Form], Any]) -> Route:
    """A POST route: the body parsed into a form (a bad one is refused before anything runs),
    then ``act(form)`` off the event loop, answered as JSON."""

    async def endpoint(request: Request) -> Response:
        form = parse(await read_body(request))
        return json_response(await blocking(lambda: act(form)))

    return Route(path, endpoint, methods=["POST"])
