"""Keeping a profile synced while an app runs: one structured task, long-polling the host.

The web app starts :meth:`SyncLoop.run` in a task group inside its lifespan, so the loop lives
exactly as long as the app: when the app stops, the task group cancels the loop and waits for it.
The loop waits for the host to say something is queued (on its own connection, in a worker thread,
without the profile's lock), then takes everything through :meth:`Profile.sync` under the lock,
so request handlers and the loop never touch the profile at once.

Cancellation: a wait under way is abandoned at once (its thread only holds the waiting
connection, which is closed under it); a take under way is finished first, never cut in the
middle, so once :meth:`run` has returned the loop never touches the profile again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import anyio
import anyio.to_thread

from backchannel.client.host import HostClient
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.errors import BackchannelError


class SyncLoop:
    """Keep a profile synced while :meth:`run` runs (until it is cancelled).

    Every call on the profile from other threads must hold :attr:`lock` too (the loop holds it
    while it applies a batch, not while it waits). ``on_events`` gets each batch of newly applied
    events by talks alias; ``on_error`` gets a failure (the loop retries after ``backoff`` s).
    Both are called on the event loop.
    """

    def __init__(
        self,
        profile: Profile,
        on_events: Callable[[dict[str, list[ev.Event]]], None],
        *,
        on_error: Callable[[BackchannelError], None] | None = None,
        poll_seconds: int = 20,
        backoff: float = 2.0,
    ) -> None:
        self.profile = profile
        self.lock = threading.RLock()
        self._on_events = on_events
        self._on_error = on_error
        self._poll = poll_seconds
        self._backoff = backoff

    async def run(self) -> None:
        """Sync until cancelled; a failure is reported and retried, never raised."""
        # Waiting happens on a second connection, so a long poll never blocks the profile's own.
        waiter = HostClient(self.profile.host_url, self.profile.device)
        try:
            while True:
                try:
                    received = await self._once(waiter)
                except BackchannelError as error:
                    if self._on_error is not None:
                        self._on_error(error)
                    await anyio.sleep(self._backoff)
                    continue
                if received:
                    self._on_events(received)
        finally:
            # Ends an abandoned long poll early: its thread sees the closed connection and exits.
            waiter.close()

    async def _once(self, waiter: HostClient) -> dict[str, list[ev.Event]]:
        since = await anyio.to_thread.run_sync(self._cursor)
        # Wait without the lock until something is queued after our cursor (abandoned if the
        # app stops: nothing but the waiting connection is touched)...
        waiting, _ = await anyio.to_thread.run_sync(
            lambda: waiter.sync(since=since, timeout=self._poll, limit=1), abandon_on_cancel=True
        )
        if not waiting:
            return {}
        # ...then take everything under the lock, through the profile (finished, if cancelled).
        return await anyio.to_thread.run_sync(self._take)

    def _cursor(self) -> int:
        with self.lock:
            return self.profile.driver.cursor

    def _take(self) -> dict[str, list[ev.Event]]:
        with self.lock:
            return self.profile.sync()
