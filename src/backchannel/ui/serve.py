"""Serving the web app on 127.0.0.1: in the foreground (``backchannel ui``) or in a thread.

The socket is bound here, to the loopback address only, before uvicorn starts; so port 0 picks a
free port and the address printed is the one bound. The token comes from :func:`new_token`.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

#: The only address the app ever binds.
LOOPBACK = "127.0.0.1"
#: Seconds open pages (their event streams) may delay shutdown.
GRACE = 1


def new_token() -> str:
    """A fresh random access token (256 bits)."""
    return secrets.token_urlsafe(32)


def bind(port: int = 0) -> socket.socket:
    """A listening-ready socket on 127.0.0.1 (``port`` 0: any free port)."""
    # IPPROTO_TCP spelled out: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # they are TCP, and with Nagle on, each response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    return sock


def address(sock: socket.socket, token: str) -> str:
    """The address to open: the bound port and the token."""
    return f"http://{LOOPBACK}:{sock.getsockname()[1]}/?token={token}"


def server(app: ASGIApp) -> uvicorn.Server:
    """A uvicorn server for the app: no access log (URLs hold the token), quick shutdown."""
    return uvicorn.Server(
        uvicorn.Config(
            app,
            access_log=False,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=GRACE,
        )
    )


@contextmanager
def serving(app: ASGIApp, port: int = 0) -> Iterator[str]:
    """Serve the app in a background thread for the block; yields its base URL (no token)."""
    sock = bind(port)
    running = server(app)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not running.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web app did not start")
            time.sleep(0.02)
        yield f"http://{LOOPBACK}:{sock.getsockname()[1]}"
    finally:
        running.should_exit = True
        thread.join(timeout=30)
        sock.close()
