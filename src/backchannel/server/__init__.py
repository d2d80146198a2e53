"""The host: an ASGI app that stores and routes opaque ciphertexts between devices.

Build it with :func:`create_app` from a :class:`HostConfig`; run it with ``backchannel serve``.
The host authenticates devices by their keys, enforces coarse access (a device reads only what is
addressed to it and posts only into talks it was admitted to) and never sees plaintext.
"""

from __future__ import annotations

from backchannel.server.app import HostConfig, create_app
from backchannel.server.auth import canonical_json
from backchannel.server.limits import Limits

__all__ = ["HostConfig", "Limits", "canonical_json", "create_app"]
