"""The access token: only a browser given the printed address may talk to the local app.

Like a notebook server, the app binds 127.0.0.1 only and still asks every request for a random
token, because any local process or web page could otherwise reach the port. The token arrives
once in the address (``/?token=…``); the app answers with a cookie (HttpOnly, SameSite=Strict,
named after the token's hash so several apps on 127.0.0.1 do not overwrite each other's) and
redirects to the address without the token, so it stays out of the history and of ``Referer``.
Scripts may send it as ``Authorization: Bearer …`` instead. Anything else gets a 403 problem.
"""

from __future__ import annotations

import hashlib
import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from backchannel.errors import UiTokenMissing
from backchannel.server.problems import problem_response

#: Paths that are pages: a token in their query is exchanged for the cookie and a redirect.
PAGES = frozenset({"/"})


def cookie_name(token: str) -> str:
    """The cookie that carries ``token`` (distinct per app instance)."""
    return "backchannel-ui-" + hashlib.sha256(token.encode()).hexdigest()[:12]


class TokenGate:
    """ASGI middleware: let a request through only with the app's token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()
        self._cookie = cookie_name(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = dict(query).get("token")
        if given is not None and self._matches(given):
            if scope["type"] == "http" and scope["path"] in PAGES and scope["method"] == "GET":
                await self._exchange(query, scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if self._matches(self._from_cookie(headers)) or self._matches(self._from_bearer(headers)):
            await self.app(scope, receive, send)
            return
        refused = UiTokenMissing(
            "Open the address that 'backchannel ui' printed: it holds the access token."
        )
        await problem_response(refused)(scope, receive, send)

    def _matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    def _from_cookie(self, headers: Headers) -> str | None:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except ValueError:
            return None
        morsel = cookies.get(self._cookie)
        return None if morsel is None else morsel.value

    @staticmethod
    def _from_bearer(headers: Headers) -> str | None:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None

    async def _exchange(
        self, query: list[tuple[str, str]], scope: Scope, receive: Receive, send: Send
    ) -> None:
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), 303)
        response.set_cookie(
            self._cookie,
            self._token.decode(),
            httponly=True,
            samesite="strict",
            path="/",
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        await response(scope, receive, send)
