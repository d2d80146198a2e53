"""The live feed: notices from the sync loop (or an action) to every open page, through SSE.

A notice says only *that* something changed (which talks) or how the host connection is; it never
carries message text. Each page re-reads ``/api/state`` when told, so the feed cannot leak what
the state does not already show. Actions run in worker threads: :meth:`Feed.publish` hands their
notice to the event loop with anyio's thread portal (the sync loop, a task, publishes directly),
and each subscriber's stream keeps only a few
notices (a page that lags re-reads the whole state anyway).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

#: Notices a slow subscriber may lag behind before newer ones are dropped for it.
BUFFER = 8


@dataclass(frozen=True, slots=True)
class Notice:
    """One server-sent event: its name and a small JSON object (never message text)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> str:
        """The notice in the ``text/event-stream`` format."""
        return f"event: {self.kind}\ndata: {json.dumps(self.data, sort_keys=True)}\n\n"


class Feed:
    """Fan-out of notices to the pages listening on ``/api/events``."""

    def __init__(self) -> None:
        self._subscribers: set[MemoryObjectSendStream[Notice]] = set()
        self._token: anyio.lowlevel.EventLoopToken | None = None
        self._loop_thread: int | None = None
        self.closed = False

    def attach(self) -> None:
        """Remember the running event loop (call from it, at start-up)."""
        self._token = anyio.lowlevel.current_token()
        self._loop_thread = threading.get_ident()

    def publish(self, notice: Notice) -> None:
        """Send a notice to every subscriber; safe to call from any thread."""
        if self._token is None or self.closed:
            return
        if threading.get_ident() == self._loop_thread:
            # On the event loop itself (the sync task): the portal would wait on itself forever.
            self._fan_out(notice)
            return
        with contextlib.suppress(RuntimeError):  # the event loop finished: nobody is listening
            anyio.from_thread.run_sync(self._fan_out, notice, token=self._token)

    def close(self) -> None:
        """End every subscription (at shutdown)."""
        self.closed = True
        for stream in list(self._subscribers):
            stream.close()
        self._subscribers.clear()

    @contextmanager
    def subscribe(self) -> Iterator[MemoryObjectReceiveStream[Notice]]:
        """A stream of the notices published from now on."""
        send, receive = anyio.create_memory_object_stream[Notice](BUFFER)
        self._subscribers.add(send)
        try:
            with receive:
                yield receive
        finally:
            self._subscribers.discard(send)
            send.close()

    def _fan_out(self, notice: Notice) -> None:
        for stream in list(self._subscribers):
            try:
                stream.send_nowait(notice)
            except anyio.WouldBlock:
                pass  # it lags: it will re-read the whole state on the next notice it takes
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._subscribers.discard(stream)
