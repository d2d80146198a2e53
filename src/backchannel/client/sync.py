"""Keeping a profile synced in the background, long-polling the host.

The web app runs one :class:`SyncLoop` per profile: it waits for the host to say something is
queued (on its own connection, without the profile's lock), then takes everything through
:meth:`Profile.sync` under the lock, so request handlers and the loop never touch the profile at
once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from backchannel.client.host import HostClient
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.errors import BackchannelError


class SyncLoop:
    """Keep a profile synced in a background thread, long-polling the host.

    Every call on the profile from other threads must hold :attr:`lock` too (the loop holds it
    while it applies a batch, not while it waits). ``on_events`` gets each batch of newly applied
    events by talks alias; ``on_error`` gets a failure (the loop retries after ``backoff`` s).
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
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backchannel-sync", daemon=True)
        # Waiting happens on a second connection, so a long poll never blocks the profile's own.
        self._waiter = HostClient(profile.host_url, profile.device)

    def start(self) -> SyncLoop:
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop at once: after this returns the loop never touches the profile again.

        A long poll under way is not waited for (up to ``poll_seconds``): its thread sees the
        stop when it ends, takes nothing, closes its connection and exits.
        """
        with self.lock:
            self._stop.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._once()
        finally:
            self._waiter.close()

    def _once(self) -> None:
        try:
            with self.lock:
                since = self.profile.driver.cursor
            # Wait without the lock until something is queued after our cursor...
            waiting, _ = self._waiter.sync(since=since, timeout=self._poll, limit=1)
            if not waiting:
                return
            # ...then take everything under the lock, through the profile, unless stopped.
            with self.lock:
                if self._stop.is_set():
                    return
                received = self.profile.sync()
            if received:
                self._on_events(received)
        except BackchannelError as error:
            if self._stop.is_set():
                return
            if self._on_error is not None:
                self._on_error(error)
            self._stop.wait(self._backoff)
