"""Running the host in the foreground: uvicorn, TLS if asked, and a shutdown that does not wait.

``Ctrl-C`` (SIGINT) or SIGTERM makes uvicorn stop accepting and wait for open requests; a long
poll would hold that wait for up to 30 s and a WebSocket forever, until uvicorn cancels them and
prints their ``CancelledError``. :class:`HostServer` first wakes every waiter through the app's
:class:`~backchannel.server.host.Notifier` (long polls answer what they have, sockets close with
1001 "going away"), so the process exits at once. Requests already being served finish: a send
that was acknowledged is committed, and one not yet acknowledged is retried by its client with
the same ``client_msg_id``.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

#: Seconds open connections get to finish once the waiters were woken.
GRACE_S = 1


@dataclass(frozen=True, slots=True)
class Tls:
    """A certificate chain and its private key (PEM files) to serve HTTPS and WSS with."""

    cert: Path
    key: Path


class HostServer(uvicorn.Server):
    """uvicorn's server, waking the host's waiters as soon as it is told to exit."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve, remembering the loop (the signal handler wakes the waiters on it)."""
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: Any) -> None:
        """On SIGINT/SIGTERM: stop as uvicorn does, and wake every long poll and socket."""
        super().handle_exit(sig, frame)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._app.state.notifier.close)


def host_server(app: Starlette, host: str, port: int, tls: Tls | None = None) -> HostServer:
    """The server for the host's app: no access log, no proxy headers (the app decides whom to
    believe: ``--trusted-proxy``), HTTPS when ``tls`` is given."""
    options: dict[str, Any] = {}
    if tls is not None:
        options = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        proxy_headers=False,
        timeout_graceful_shutdown=GRACE_S,
        **options,
    )
    return HostServer(config, app)
