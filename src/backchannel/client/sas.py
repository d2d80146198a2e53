"""Comparing another device's keys out of band: short authentication strings (SAS).

Both people run the exchange at once: each device sends an ephemeral key inside its Olm session
with the other and waits for the other's; both derive the same short codes unless someone sits
in the middle. The caller shows them, and marks the device verified (:func:`mark_verified`) once
the people compared them aloud.
"""

from __future__ import annotations

import time

from backchannel.client.profile import Profile
from backchannel.client.wire import Outgoing, SasKey
from backchannel.crypto import SasExchange, ShortCodes
from backchannel.crypto.signed import b64
from backchannel.errors import VerificationTimedOut


def verify_with_sas(
    profile: Profile, alias: str, peer_name: str, *, timeout: float = 120
) -> ShortCodes:
    """Run a SAS exchange with another device of the talks; the short codes to compare."""
    participant = profile.participant(alias)
    peer = participant.directory.find(peer_name)
    exchange = SasExchange()
    profile.driver.send(participant, Outgoing({peer.host_device: [SasKey(exchange.public_key)]}))
    deadline = time.monotonic() + timeout
    while peer.host_device not in participant.sas_inbox:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise VerificationTimedOut(
                f"{peer_name} did not answer; run verify-device on both devices at once"
            )
        profile.sync(timeout=max(1, min(5, int(remaining))))
    theirs = participant.sas_inbox.pop(peer.host_device)
    sides = sorted(
        [(profile.device.device_id, b64(exchange.public_key)), (peer.host_device, b64(theirs))]
    )
    info = "backchannel/sas/v1|" + "|".join(f"{d}={k}" for d, k in sides)
    return exchange.complete(theirs, info)


def mark_verified(profile: Profile, alias: str, peer_name: str) -> str:
    """Record that the device's identity was compared out of band; its host device id."""
    participant = profile.participant(alias)
    peer = participant.directory.find(peer_name)
    participant.verified.add(peer.host_device)
    profile.save()
    return peer.host_device
