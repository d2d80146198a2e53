"""Which devices each event goes to, in which form, and what a newcomer is passed on.

The engine says which members receive an event (:func:`engine.audience.audience`); here that
becomes host devices: each member's devices that no revocation took away and that this device
knows, plus the devices holding a party's root authority where the party learns the event (a
deposit's notice where it may not read the deposit: :func:`engine.audience.party_form`).
Talks-wide acts (:data:`rules.TALKS_WIDE`) go to every live device this device knows, even one
whose member the view does not list yet: every device must know every party, member, mandate,
device and the text to check every actor. A device revoked in the talks is addressed by nothing
planned after its revocation's place.
"""

from __future__ import annotations

from collections.abc import Iterable

from backchannel import engine
from backchannel.client.directory import Directory
from backchannel.client.ledger import Held
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.audience import audience, party_form, party_receives
from backchannel.engine.rules import TALKS_WIDE


def recipients(
    directory: Directory, before: engine.Talks, after: engine.Talks, event: ev.Event, me: str
) -> dict[str, ev.Event]:
    """Host device id → the form of ``event`` that device receives (never this device ``me``)."""
    found: dict[str, ev.Event] = {}
    if event.action in TALKS_WIDE:
        found = {peer.host_device: event for peer in directory.live()}
    else:
        for member, form in audience(before, after, event).items():
            for device in after.devices.values():
                if device.member != member or device.revoked:
                    continue
                peer = directory.by_engine_device(device.id)
                if peer is not None and peer.host_device not in directory.revoked:
                    found[peer.host_device] = form
        for peer in directory.live():
            if peer.root and peer.party in after.parties:
                root_form = party_form(after, peer.party, event)
                if root_form is not None:
                    found.setdefault(peer.host_device, root_form)
    found.pop(me, None)
    return found


def backlog(
    applied: Iterable[Held], view: engine.Talks, party: str, actors: frozenset[str] | None = None
) -> list[Held]:
    """The signed acts, in record order, a device of ``party`` may know (:func:`party_receives`;
    only talks-wide ones while the view does not know the party), optionally only those by
    ``actors``."""
    known = party in view.parties
    kept: list[Held] = []
    for held in applied:
        if held.item.signature is None or held.item.salt is None:
            continue  # only signed acts, with the salt that places them, are passed on
        event = codec.decode(held.item.event)
        if actors is not None and event.actor not in actors:
            continue
        if party_receives(view, party, event) if known else event.action in TALKS_WIDE:
            kept.append(held)
    return kept
