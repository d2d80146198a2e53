"""Errors on the wire: RFC 9457 problem details, one shape for every failure.

A :class:`~backchannel.errors.BackchannelError` becomes ``application/problem+json`` with
``type`` (a URN built from the stable code), ``title`` (the HTTP status phrase), ``status``,
``detail`` (the error's user message) and ``code``. The error's debug ``detail`` dict is never
sent. Framework errors (unknown route, wrong method) and anything unexpected are mapped into the
same tree, so a client never sees a bare HTML or text error.
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backchannel.errors import (
    BackchannelError,
    InputError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:backchannel:problem:"

_log = logging.getLogger("backchannel.server")


def problem(error: BackchannelError) -> dict[str, Any]:
    """The problem-details object of an error (never its debug detail)."""
    return {
        "type": TYPE_PREFIX + error.code,
        "title": HTTPStatus(error.status).phrase,
        "status": error.status,
        "detail": error.message,
        "code": error.code,
    }


def problem_response(error: BackchannelError) -> Response:
    """The HTTP response for an error, with ``Retry-After`` when rate limited."""
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    return JSONResponse(problem(error), error.status, headers=headers, media_type=MEDIA_TYPE)


def from_http_exception(exc: HTTPException) -> BackchannelError:
    """Translate a framework HTTP error into the tree."""
    if exc.status_code == 404:
        return NotFound("No such route.")
    if exc.status_code == 405:
        return MethodNotAllowed("This route does not accept this method.")
    if exc.status_code == 413:
        return PayloadTooLarge("The request is too large.")
    if 400 <= exc.status_code < 500:
        return InputError("The request is malformed.")
    return BackchannelError("The host failed.")


async def handle_backchannel_error(request: Request, exc: Exception) -> Response:
    """Starlette handler: our errors as problem details."""
    assert isinstance(exc, BackchannelError)
    if exc.status >= 500:
        _log.error("%s %s failed: %s", request.method, request.url.path, exc.code)
    return problem_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette handler: framework errors as problem details (a 405 keeps its ``Allow``)."""
    assert isinstance(exc, HTTPException)
    response = problem_response(from_http_exception(exc))
    if exc.headers and "Allow" in exc.headers:
        response.headers["allow"] = exc.headers["Allow"]
    return response


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Starlette handler: a bug becomes a 500 problem; the log names the route, not the body."""
    _log.error("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return problem_response(BackchannelError("The host failed."))


EXCEPTION_HANDLERS = {
    BackchannelError: handle_backchannel_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
