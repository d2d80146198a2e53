"""The client side: what a device runs. It holds the keys, so it is the trust boundary.

So far: :class:`HostClient`, the typed connection to a host (device-key login, one-time keys,
talks, invites, send, sync). The sync loop that decrypts, verifies and applies the engine's rules
to every event builds on it (see ``docs/engine.md``, *Fan-out*).
"""

from backchannel.client.host import Delivery, HostClient

__all__ = ["Delivery", "HostClient"]
