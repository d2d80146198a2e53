"""The open profile as the web app uses it: read its state, act through it, keep it synced.

The profile is not thread-safe: the :class:`SyncLoop` (a task in the app's lifespan) and the
request handlers (run in worker threads) each hold the loop's lock while they touch it. Acting
goes through :meth:`Profile.act` exactly as the CLI's ``send`` and ``relay`` do: the device's own
engine checks the event first, so a refused action raises its rule's error and nothing leaves the
device.
"""

from __future__ import annotations

import secrets
from typing import Any

from backchannel.client import cautions
from backchannel.client.profile import Profile
from backchannel.client.sync import SyncLoop
from backchannel.engine import events as ev
from backchannel.errors import BackchannelError
from backchannel.ui.feed import Feed, Notice
from backchannel.ui.forms import ContactForm, RelayForm, SendForm
from backchannel.ui.state import state_json


class DeviceSession:
    """One open profile, its sync loop, and the feed that tells pages what changed."""

    def __init__(self, profile: Profile, feed: Feed, *, poll_seconds: int = 20) -> None:
        self.profile = profile
        self.feed = feed
        #: The code of the last failure to reach the host, until the next success.
        self.host_error: str | None = None
        self.sync = SyncLoop(
            profile, self._received, on_error=self._failed, poll_seconds=poll_seconds
        )

    async def run(self) -> None:
        """Keep the profile synced until cancelled (the app's lifespan runs it in a task group)."""
        await self.sync.run()

    def state(self) -> dict[str, Any]:
        """The page state, and whether the host answered last time."""
        with self.sync.lock:
            data = state_json(self.profile)
        data["host"] = {"ok": self.host_error is None, "code": self.host_error}
        return data

    def send(self, form: SendForm) -> dict[str, Any]:
        """Send a message under its label; the rule's error if the device's engine refuses."""
        message = _message_id()
        with self.sync.lock:
            participant = self.profile.participant(form.talks)
            warnings = cautions.before_send(participant.view, form.room)
            self.profile.act(
                participant,
                ev.Send,
                message=message,
                room=form.room,
                text=form.text,
                label=form.label,
                lang=form.lang,
            )
            self._host_ok()
        self.feed.publish(Notice("changed", {"talks": [form.talks]}))
        return {
            "talks": form.talks,
            "message": message,
            "room": form.room,
            "warnings": [w.to_json() for w in warnings],
        }

    def relay(self, form: RelayForm) -> dict[str, Any]:
        """Carry a message into another room; the rule's error if its label forbids it."""
        message = _message_id()
        with self.sync.lock:
            participant = self.profile.participant(form.talks)
            warnings = cautions.before_relay(participant.view, form.room)
            self.profile.act(
                participant,
                ev.Relay,
                message=message,
                source=form.source,
                room=form.room,
                mode=form.mode,
                text=form.text,
                lang=form.lang,
            )
            self._host_ok()
        self.feed.publish(Notice("changed", {"talks": [form.talks]}))
        return {
            "talks": form.talks,
            "message": message,
            "source": form.source,
            "room": form.room,
            "warnings": [w.to_json() for w in warnings],
        }

    def contact(self, form: ContactForm) -> dict[str, Any]:
        """Ask another party to open talks, directly or through the mediator (a signed act)."""
        request = f"c-{secrets.token_hex(6)}"
        with self.sync.lock:
            participant = self.profile.participant(form.talks)
            self.profile.act(
                participant,
                ev.RequestContact,
                request=request,
                to_party=form.to_party,
                via=form.via,
                text=form.text,
            )
            self._host_ok()
        self.feed.publish(Notice("changed", {"talks": [form.talks]}))
        return {"talks": form.talks, "request": request, "to": form.to_party, "via": form.via}

    def _received(self, received: dict[str, list[ev.Event]]) -> None:
        self._host_ok()
        self.feed.publish(Notice("changed", {"talks": sorted(received)}))

    def _failed(self, error: BackchannelError) -> None:
        self.host_error = error.code
        self.feed.publish(Notice("host", {"ok": False, "code": error.code}))

    def _host_ok(self) -> None:
        if self.host_error is not None:
            self.host_error = None
            self.feed.publish(Notice("host", {"ok": True, "code": None}))


def _message_id() -> str:
    """A fresh message id, as the CLI makes them."""
    return f"m-{secrets.token_hex(6)}"
