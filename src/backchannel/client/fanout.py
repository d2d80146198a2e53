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

import json
from collections.abc import Iterable
from dataclasses import replace

from backchannel import engine
from backchannel.client import acts
from backchannel.client.directory import Directory
from backchannel.client.ledger import Held
from backchannel.client.wire import EventItem
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.audience import audience, party_form
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
    """The signed acts, in record order, a device of ``party`` may know (:func:`party_form`:
    a deposit's, a match's or a submission's notice where it may not read the act; only
    talks-wide acts while the view does not know the party), optionally only those by
    ``actors``; and the notices this device holds."""
    known = party in view.parties
    kept: list[Held] = []
    for held in applied:
        event = codec.decode(held.item.event)
        if isinstance(event, acts.NOTICES) and known:
            kept.append(held)  # a notice this device holds: it names its entry
            continue
        if held.item.signature is None or held.item.salt is None:
            continue  # only signed acts, with the salt that places them, are passed on
        if actors is not None and event.actor not in actors:
            continue
        if not known:
            if event.action in TALKS_WIDE:
                kept.append(held)
            continue
        form = party_form(view, party, event)
        if form is event:
            kept.append(held)
        elif form is not None:  # a notice: it names the entry its salt would open
            notice = EventItem(event=codec.encode(form), commitment=held.commitment)
            kept.append(Held(held.sender, notice))
    return kept


def openings(
    directory: Directory,
    view: engine.Talks,
    applied: Iterable[Held],
    forms: dict[str, ev.Event],
    event: ev.Event,
) -> dict[str, list[EventItem]]:
    """What a match opens for its audience: to each device receiving ``event`` (an
    :class:`~ev.AnnounceMatch`) whole, the signed acts of every matched deposit its party did
    not make (the deposit and its amendments, with their salts), so its record proves them."""
    if not isinstance(event, ev.AnnounceMatch):
        return {}
    matched = set(json.loads(event.deposits))
    acts: list[tuple[str, EventItem]] = []  # (depositing party, act)
    for held in applied:
        act = codec.decode(held.item.event)
        if isinstance(act, ev.Deposit | ev.Amend) and act.deposit in matched:
            party = view.deposits[act.deposit].party
            acts.append((party, replace(held.item, forwarded=True)))
    return {
        device: [item for party, item in acts if party != directory.peers[device].party]
        for device, form in forms.items()
        if form is event and device in directory.peers
    }
