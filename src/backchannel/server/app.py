"""The app factory: one Starlette app, its dependencies wired once in the lifespan.

:func:`create_app` takes a :class:`HostConfig` (database URL, limits, clock). On start-up the
lifespan opens the store (migrating it), builds the :class:`~backchannel.server.host.Host`, the
rate limiter and the request schemas, and hands them to every request as lifespan state; on
shutdown it closes the store. There is no global state, so tests run several apps side by side.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from nacl.signing import SigningKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backchannel.server.clients import parse_networks
from backchannel.server.endpoints import all_routes
from backchannel.server.host import Host, Notifier
from backchannel.server.limits import Limits, RateLimiter
from backchannel.server.log import RecordService
from backchannel.server.openapi import openapi_document
from backchannel.server.problems import EXCEPTION_HANDLERS
from backchannel.server.routes import Deps
from backchannel.server.schema import Schemas
from backchannel.store import open_store


@dataclass(frozen=True, slots=True)
class HostConfig:
    """Everything the host is configured with."""

    db_url: str
    limits: Limits = field(default_factory=Limits)
    #: Seconds since the epoch; injected so tests can move time forward.
    clock: Callable[[], float] = time.time
    #: The Ed25519 key that signs checkpoints; None: a fresh one per process (tests, demos).
    log_key: SigningKey | None = field(default=None, repr=False)
    #: The host's name in log origins (``backchannel/<host_name>/<talks_id>``).
    host_name: str = "localhost"
    #: Reverse proxies (addresses or CIDR networks) whose ``X-Forwarded-For`` is believed.
    trusted_proxies: tuple[str, ...] = ()


def _version() -> str:
    try:
        return version("backchannel")
    except PackageNotFoundError:
        return "0"


def create_app(config: HostConfig) -> Starlette:
    """The host's ASGI app for one configuration."""
    schemas = Schemas.from_limits(config.limits)
    document = openapi_document(schemas, _version(), config.limits)

    notifier = Notifier()
    trusted = parse_networks(config.trusted_proxies)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        store = await anyio.to_thread.run_sync(open_store, config.db_url)
        loop = anyio.lowlevel.current_token()

        def woken(device_ids: list[str]) -> None:
            # From the store's listener thread: wake this process's waiters on the loop.
            with contextlib.suppress(RuntimeError):
                anyio.from_thread.run_sync(notifier.notify, device_ids, token=loop)

        stop_watching = store.watch(woken)
        try:
            log_key = config.log_key or SigningKey.generate()
            record = RecordService(store, log_key, config.host_name)
            host = Host(store, config.limits, config.clock, record, notifier)
            limiter = RateLimiter(config.limits.rate_per_s, config.limits.rate_burst, config.clock)
            async with anyio.create_task_group() as background:
                background.start_soon(host.purge_forever, config.limits.purge_every_s)
                yield {"deps": Deps(host, config.limits, limiter, schemas, trusted)}
                background.cancel_scope.cancel()
        finally:
            notifier.close()
            await anyio.to_thread.run_sync(stop_watching)
            await anyio.to_thread.run_sync(store.close)

    async def openapi(request: Request) -> Response:
        """The OpenAPI document of every route."""
        return JSONResponse(document)

    async def health(request: Request) -> Response:
        """Liveness: the process is up and its store was opened."""
        return JSONResponse({"status": "ok"})

    served = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/v1/health", health, methods=["GET"]),
        *all_routes(),
    ]
    app = Starlette(routes=served, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    # The server's shutdown wakes every long poll and socket through it (server/run.py).
    app.state.notifier = notifier
    return app
