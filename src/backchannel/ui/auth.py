"""The gate of the local app: nothing another origin on the machine can send or receive grants
anything.

The app binds 127.0.0.1, but every page the browser opens (on any port, under any name that
resolves to 127.0.0.1) can send it requests, and cookies are not isolated by port: a cookie the
app set is sent to every other server on 127.0.0.1. So the app keeps **no ambient credential**:

* **The token travels only in a header.** The printed address carries ``?token=…`` once; the
  page's script moves it to the tab's ``sessionStorage`` (per origin: scheme, host *and* port)
  and out of the address bar, and sends it as ``Authorization: Bearer …`` on every API call.
  No cookie ever carries it, so nothing a neighbour is sent can be replayed. The page shell and
  its static files hold no secret and need no token; every ``/api/`` route does.
* **The Host must be the app's own**: ``127.0.0.1:<port>`` or ``localhost:<port>``, the port
  the socket is bound to. A DNS-rebinding name resolving to 127.0.0.1 gets ``ui.host_refused``.
* **Only the app's own page may change anything.** A request other than GET/HEAD must carry
  ``Origin: http://<its Host>`` and ``Content-Type: application/json`` (so an HTML form, which
  can send neither, and a ``no-cors`` fetch are refused before any body is read), and an
  ``Origin`` or ``Sec-Fetch-Site`` naming another origin is refused on every ``/api/`` request.
  The API answers no CORS preflight, so a cross-origin script cannot even send the header.
* **File bodies, on named routes only.** A document is up to the document limit, far over the
  JSON body limit, so the routes given as ``binary`` (the Documents panel's upload and trace)
  also take ``Content-Type: application/octet-stream``. That keeps every protection above:
  ``application/octet-stream`` is not a CORS-safelisted content type, so a cross-origin page
  that sets it (or the token header) must be granted a preflight, which the app refuses; a
  ``no-cors`` fetch cannot set it at all, and an HTML form can send only urlencoded, multipart
  or ``text/plain`` bodies. The token and the Origin are required exactly as for JSON.

Refusals are RFC 9457 problems with stable codes (``ui.host_refused``, ``ui.origin_refused``,
``input.media_type``, ``ui.token_missing``); the checks run before routing, in this order.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from backchannel.errors import (
    BackchannelError,
    MediaTypeUnsupported,
    UiHostRefused,
    UiOriginRefused,
    UiTokenMissing,
)
from backchannel.server.problems import problem_response

#: The names the app answers to (with its own port).
LOCAL_NAMES = ("127.0.0.1", "localhost")
#: Methods that never change anything (and may come from a navigation).
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: ``Sec-Fetch-Site`` values that mean "the app's own page" (or the user typing the address).
OWN_SITES = frozenset({"same-origin", "none"})
#: Paths served without the token: the page shell, its icon and static files hold no secret.
PUBLIC = ("/static/",)


def allowed_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values the app on ``port`` answers."""
    return frozenset(f"{name}:{port}" for name in LOCAL_NAMES)


class TokenGate:
    """ASGI middleware: the Host, Origin, media type and token checks of the module docstring."""

    def __init__(self, app: ASGIApp, token: str, binary: Collection[str] = ()) -> None:
        self.app = app
        self._token = token.encode()
        self._binary = frozenset(binary)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        try:
            self.check(scope)
        except BackchannelError as refused:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4403})
                return
            await problem_response(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def check(self, scope: Scope) -> None:
        """Raise the refusal for a request that must not reach the app."""
        if scope["type"] != "http":
            raise UiOriginRefused("The local app serves no sockets.")
        headers = Headers(scope=scope)
        server = scope.get("server") or ("", 0)
        host = headers.get("host", "")
        if host not in allowed_hosts(int(server[1] or 0)):
            raise UiHostRefused(
                "The local app answers only at 127.0.0.1 or localhost with its own port."
            )
        own = f"http://{host}"
        origin = headers.get("origin")
        if origin is not None and origin != own:
            raise UiOriginRefused("Only the local app's own page may call it.")
        method = scope["method"]
        path: str = scope["path"]
        if method not in SAFE_METHODS:
            if origin != own:
                raise UiOriginRefused("A change must come from the local app's own page.")
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media != "application/json" and not (
                media == "application/octet-stream" and path in self._binary
            ):
                raise MediaTypeUnsupported("The local app reads only application/json bodies.")
        if path in ("/", "/favicon.ico") or path.startswith(PUBLIC):
            return
        site = headers.get("sec-fetch-site")
        if site is not None and site not in OWN_SITES:
            raise UiOriginRefused("Only the local app's own page may call it.")
        if not self._matches(_bearer(headers)):
            raise UiTokenMissing(
                "Open the address that 'backchannel ui' printed: it holds the access token."
            )

    def _matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self._token)


def _bearer(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None
