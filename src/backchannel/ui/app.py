"""The local web app: one HTML shell, its script and style, and a small JSON API over a profile.

Routes are thin: parse (:mod:`ui.forms`), call the device session (:mod:`ui.session`) in a worker
thread, answer JSON. Every error is an RFC 9457 problem with the error's stable code, which the
page translates. The browser talks only to this process; the process alone talks to the host.

    GET  /             the page, in the chosen language (``?lang=en|ar|fa``, then a cookie)
    GET  /static/…     app.js and app.css, shipped in the package (nothing from the internet)
    GET  /api/state    the device's talks, rooms and messages (:mod:`ui.state`)
    POST /api/send     {talks, room, text, label, lang}
    POST /api/relay    {talks, source, room, mode, text, lang}
    POST /api/contact  {talks, to, via, text}: a contact request (signed, in the record)
    GET  /api/events   server-sent events: ``changed`` and ``host`` notices, no message text
    …    /api/mandates  the Mandates page: grant and revoke (:mod:`ui.mandates`)
    …    /api/text      the Text page: the negotiating text, drafting and consents (:mod:`ui.text`)
    POST /api/analysis  a problem file's frontier and fair points (:mod:`ui.analysis`)
    …    /api/preferences  the Analysis page: the agenda, my scores, the mediator's analysis
                       (:mod:`ui.preferences`)
    …    /api/escrow    the Escrow page: the talks' deposits, and matching (:mod:`ui.escrow`)
    …    /api/record    the Record page: status, timeline, export (:mod:`ui.record`)
    …    /api/documents each room's Documents panel: send, view, fetch, carry, trace
                       (:mod:`ui.documents`; its upload and trace take a file body)
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backchannel.client.profile import Profile
from backchannel.errors import BackchannelError
from backchannel.server.problems import from_http_exception, problem_response
from backchannel.ui import analysis, documents, escrow, i18n, mandates, preferences, record, text
from backchannel.ui.auth import TokenGate
from backchannel.ui.feed import Feed, Notice
from backchannel.ui.forms import parse_contact, parse_relay, parse_send
from backchannel.ui.session import DeviceSession

#: The pages after Rooms, in the order the navigation lists them; each is ``static/<page>.js``.
PAGES = ("mandates", "text", "record", "analysis", "escrow")
#: Seconds between keep-alive comments on an idle event stream.
KEEP_ALIVE = 15
#: The largest request body the API reads.
MAX_BODY = 64 * 1024

#: Only this process's own files and API; no inline script, no frames, no other origin.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}

_log = logging.getLogger("backchannel.ui")
_T = TypeVar("_T")


def create_app(profile: Profile, token: str, *, poll_seconds: int = 20) -> Starlette:
    """The web app over an open ``profile``, guarded by ``token``; syncs while it runs."""
    feed = Feed()
    session = DeviceSession(profile, feed, poll_seconds=poll_seconds)
    languages = i18n.load_all()
    shell = resources.files("backchannel.ui").joinpath("shell.html").read_text(encoding="utf-8")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        feed.attach()
        # The sync loop lives exactly as long as the app: cancelled and awaited when it stops.
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(session.run)
            try:
                yield
            finally:
                feed.close()
                tasks.cancel_scope.cancel()

    async def page(request: Request) -> Response:
        lang = i18n.choose(
            request.query_params.get("lang"),
            request.cookies.get(i18n.COOKIE),
            request.headers.get("accept-language"),
        )
        response = HTMLResponse(_render(shell, languages[lang], languages))
        response.headers["cache-control"] = "no-store"
        if request.query_params.get("lang") == lang:
            response.set_cookie(
                i18n.COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="strict"
            )
        return response

    async def favicon(request: Request) -> Response:
        # Browsers ask for /favicon.ico whatever the page says: the same icon, not a 404.
        icon = resources.files("backchannel.ui").joinpath("static", "favicon.svg").read_bytes()
        return Response(
            icon, media_type="image/svg+xml", headers={"cache-control": "max-age=86400"}
        )

    async def state(request: Request) -> Response:
        return _json(await _in_thread(session.state))

    async def send(request: Request) -> Response:
        form = parse_send(await _body(request))
        return _json(await _in_thread(lambda: session.send(form)))

    async def relay(request: Request) -> Response:
        form = parse_relay(await _body(request))
        return _json(await _in_thread(lambda: session.relay(form)))

    async def contact(request: Request) -> Response:
        form = parse_contact(await _body(request))
        return _json(await _in_thread(lambda: session.contact(form)))

    async def events(request: Request) -> Response:
        return StreamingResponse(
            _stream(feed),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/send", send, methods=["POST"]),
        Route("/api/relay", relay, methods=["POST"]),
        Route("/api/contact", contact, methods=["POST"]),
        Route("/api/events", events, methods=["GET"]),
        *mandates.routes(session),
        *text.routes(session),
        *analysis.routes(),
        *escrow.routes(session),
        *preferences.routes(session),
        *record.routes(session),
        *documents.routes(session),
        Mount("/static", StaticFiles(packages=[("backchannel.ui", "static")]), name="static"),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TokenGate, token=token, binary=documents.BINARY),
        ],
        exception_handlers={
            BackchannelError: _handle_error,
            HTTPException: _handle_http,
            Exception: _handle_unexpected,
        },
    )


class SecurityHeaders:
    """ASGI middleware: the same strict headers on every response, problems included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _render(shell: str, language: i18n.Language, languages: dict[str, i18n.Language]) -> str:
    strings = language.strings
    listed = [{"code": lang.code, "name": lang.name} for lang in languages.values()]
    values = {
        "lang": html.escape(language.code),
        "dir": html.escape(language.direction),
        "title": html.escape(strings.get("Backchannel", "Backchannel")),
        "language_label": html.escape(strings.get("Language", "Language")),
        "strings": _script_json(strings),
        "languages": _script_json(listed),
        "pages_label": html.escape(strings.get("Pages", "Pages")),
        "page_scripts": "\n".join(
            f'<script src="/static/{name}.js" defer></script>' for name in _page_scripts()
        ),
    }
    for name, value in values.items():
        shell = shell.replace("{{" + name + "}}", value)
    return shell


def _page_scripts() -> list[str]:
    static = resources.files("backchannel.ui").joinpath("static")
    return [name for name in PAGES if static.joinpath(f"{name}.js").is_file()]


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


async def _stream(feed: Feed) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    yield Notice("ready").encode()
    with feed.subscribe() as notices:
        while True:
            with anyio.move_on_after(KEEP_ALIVE) as idle:
                try:
                    notice = await notices.receive()
                except anyio.EndOfStream:
                    return
            if idle.cancelled_caught:
                yield ": keep-alive\n\n"
                continue
            yield notice.encode()


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413)
    return body


async def _in_thread(call: Callable[[], _T]) -> _T:
    """Run a blocking call on the profile (it talks to the host) off the event loop."""
    return await anyio.to_thread.run_sync(call)


def _json(value: Any) -> Response:
    return JSONResponse(value, headers={"cache-control": "no-store"})


async def _handle_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BackchannelError)
    if exc.status >= 500:
        _log.error("%s %s failed: %s", request.method, request.url.path, exc.code)
    return problem_response(exc)


async def _handle_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem_response(from_http_exception(exc))


async def _handle_unexpected(request: Request, exc: Exception) -> Response:
    _log.error("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return problem_response(BackchannelError("The local app failed; see its log."))
