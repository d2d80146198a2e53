"""A host served in a background thread on a free 127.0.0.1 port: for simulations and tests.

``backchannel serve`` is the production entry point; this is the same app, started inside another
process that needs a host for a while (``simulate --through-host``, the test suite).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from backchannel.server.app import HostConfig, create_app


@contextmanager
def serve_locally(config: HostConfig, port: int = 0) -> Iterator[str]:
    """Serve a host for the duration of the block (on ``port``, or a free one); yields its URL."""
    with serve_app(create_app(config), port) as url:
        yield url


@contextmanager
def serve_app(app: ASGIApp, port: int = 0) -> Iterator[str]:
    """Serve an ASGI app (the host's, or a test's wrapper around it); yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            access_log=False,
            log_level="warning",
            lifespan="on",
            proxy_headers=False,
            timeout_graceful_shutdown=2,
        )
    )
    # IPPROTO_TCP spelled out: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # they are TCP, and with Nagle on, each response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the host did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
