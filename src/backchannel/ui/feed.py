"""The live feed: notices from the sync thread (or an action) to every open page, through SSE.

A notice says only *that* something changed (which talks) or how the host connection is; it never
carries message text. Each page re-reads ``/api/state`` when told, so the feed cannot leak what
the state does not already show. The sync loop runs in a thread: :meth:`Feed.publish` hands the
notice to the event loop with anyio's thread portal, and each subscriber's stream keeps only a few
notices (a page that lags re-reads the whole state anyway).
"""

from __future__ import annotations

import json
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
        self.closed = False

    def attach(self) -> None:
        """Remember the running event loop (call from it, at start-up)."""
        self._token = anyio.lowlevel.current_token()

    def publish(self, notice: Notice) -> None:
        """Send a notice to every subscriber; safe to call from any thread."""
        if self._token is None or self.closed:
            return
        try:
            anyio.from_thread.run_sync(self._fan_out, notice, token=self._token)
        except RuntimeError:
            # Called from the event loop itself (an action's handler): deliver directly.
            self._fan_out(notice)

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
