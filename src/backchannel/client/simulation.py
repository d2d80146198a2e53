"""Replaying a scenario through a real host: one device per member device and per party root.

Every member and every party's root authority gets an Ed25519 identity; every device named in the
scenario gets a vodozemac account registered at the host under an **opaque random id** (the host
never learns a name) and a recipient-tag key. Each device verifies every other device's
certificate against the identity it was told out of band, and every device is introduced to
every other from the start (the scenario's cast is known). Then the set-up and the steps are
played by the acting devices: each is checked by the acting device's own engine, encrypted to
its audience, sent, and every device syncs, decrypts, verifies and applies in record order.

The file's order is the record's order, and its times the record's clock: the temporary host's
clock (:class:`ReplayClock`) follows the scenario, never going back, so a step dated before the
steps ahead of it is judged as a backdated act is. The transcript has the engine replay's shape,
plus a ``stack`` section with what the devices themselves hold.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import nacl.utils

from backchannel import engine
from backchannel.client import bundle
from backchannel.client.directory import Directory, Introduction
from backchannel.client.driver import Driver
from backchannel.client.host import HostClient
from backchannel.client.participant import Participant
from backchannel.crypto import Device, Identity, Sessions, TagKey, verify_device
from backchannel.engine import events as ev
from backchannel.errors import RuleViolation
from backchannel.replay import Outcome, Transcript
from backchannel.scenario import Scenario
from backchannel.server import HostConfig, Limits
from backchannel.server.local import serve_locally


class ReplayClock:
    """A host clock that is the wall clock until a replay sets it, then the replay's time."""

    def __init__(self) -> None:
        self._at: float | None = None

    def set(self, at: datetime) -> None:
        """Move the clock to ``at`` (never back)."""
        self._at = at.timestamp() if self._at is None else max(self._at, at.timestamp())

    def __call__(self) -> float:
        return time.time() if self._at is None else self._at


_CLOCKS: dict[str, ReplayClock] = {}


@contextmanager
def temporary_host(db_url: str) -> Iterator[str]:
    """A host on a free 127.0.0.1 port for the block's duration; yields its URL. Its clock is
    the wall clock, unless a scenario is replayed through it (:func:`run`)."""
    clock = ReplayClock()
    # A simulation sends in bursts from one process: the per-device rate limit is off.
    config = HostConfig(db_url=db_url, limits=Limits(rate_per_s=0), clock=clock)
    with serve_locally(config) as url:
        _CLOCKS[url] = clock
        try:
            yield url
        finally:
            del _CLOCKS[url]


@dataclass
class StackRun:
    """A replay through the host: the transcript, every device's participant and driver."""

    transcript: Transcript
    participants: dict[str, Participant]  # host device id → participant
    drivers: dict[str, Driver]

    def sync(self, host_id: str) -> list[ev.Event]:
        """One device takes what waits for it; the events newly applied."""
        participant = self.participants[host_id]
        found = self.drivers[host_id].sync({participant.talks_host_id: participant})
        return found.get(participant.talks_host_id, [])

    def close(self) -> None:
        """Close every device's connection to the host."""
        for driver in self.drivers.values():
            driver.host.close()

    def exporter(self, party: str | None = None) -> Participant:
        """``party``'s first device; by default the mediator's (or, with no mediator, the first
        party's root)."""
        talks = self.transcript.talks
        if party is None:
            party = talks.mediator.id if talks.mediator is not None else next(iter(talks.parties))
        return next(
            (
                p
                for p in self.participants.values()
                if p.me in talks.members and talks.members[p.me].party == party
            ),
            None,
        ) or next(p for p in self.participants.values() if p.me == party)

    def export_record(
        self, *, party: str | None = None, with_content: bool = False
    ) -> dict[str, Any]:
        """The record bundle as :meth:`exporter` sees it, verified before it is returned."""
        data = bundle.export(self.exporter(party), with_content=with_content)
        bundle.verify(data)
        return data

    def device_visibility(self) -> dict[str, list[str]]:
        """Message id → members whose own device holds the message and may read it."""
        seen: dict[str, set[str]] = {}
        for participant in self.participants.values():
            if participant.engine_device is None:
                continue
            for message in participant.view.messages.values():
                if participant.me in message.readers:
                    seen.setdefault(message.id, set()).add(participant.me)
        return {message: sorted(members) for message, members in seen.items()}

    def to_json(self) -> dict[str, Any]:
        """The simulate --json object, with the devices' own view under ``stack``."""
        data = self.transcript.to_json()
        data["stack"] = {
            "devices": len(self.participants),
            "visibility": self.device_visibility(),
            "dropped": [
                {"device": host_id, "code": d.code, "message": d.message}
                for host_id, p in self.participants.items()
                for d in p.dropped
            ],
            "record": {
                "applied_events": sum(len(p.ledger.applied) for p in self.participants.values()),
                "alarms": [
                    {"device": host_id, **alarm.to_json()}
                    for host_id, p in self.participants.items()
                    for alarm in p.witness.alarms
                ],
            },
        }
        return data


def run(scenario: Scenario, host_url: str) -> StackRun:
    """Replay ``scenario`` through the temporary host at ``host_url``."""
    clock = _CLOCKS.get(host_url)
    if clock is None:
        raise ValueError("a scenario replays through a host started with temporary_host()")
    setup = list(scenario.setup)
    if setup:
        clock.set(setup[0].at)
    devices = _devices(setup, scenario)
    identities = {name: Identity.generate() for name in {holder for holder, _ in devices.values()}}
    parties = {e.party for e in setup if isinstance(e, ev.AddParty)}
    members = {e.member: e.party for e in setup if isinstance(e, ev.AddMember)}
    drivers: dict[str, Driver] = {}
    seats: dict[str, tuple[str, str | None, TagKey]] = {}  # host id → holder, engine device, tags
    for engine_device, (holder, _) in devices.items():
        client = HostClient(host_url, Device(f"dev-{secrets.token_hex(8)}"))
        client.register(identities[holder])
        host_id = client.device.device_id
        drivers[host_id] = Driver(client, Sessions(client.device), clock=lambda: _clock_time(clock))
        seats[host_id] = (holder, None if holder in parties else engine_device, TagKey.generate())
    convener = next(iter(drivers.values())).host
    talks_host_id = convener.create_talks()
    for driver in drivers.values():
        if driver.host is not convener:
            driver.host.accept(convener.invite(talks_host_id))
        driver.host.publish_one_time_keys(len(drivers) + 2)
    # Each device introduces itself as a real one does: what a record bundle names it by.
    introductions: dict[str, Introduction] = {}
    for host_id, (holder, seat, tags) in seats.items():
        certificate = drivers[host_id].host.device.certify(identities[holder])
        verify_device(convener.device_certificate(host_id), identities[holder].public_key)
        root = holder in parties
        introductions[host_id] = Introduction.make(
            identities[holder],
            certificate,
            talks_host_id,
            holder if root else members[holder],
            None if root else holder,
            root=root,
            tag_key=tags.public,
            engine_device=seat,
        )
    participants: dict[str, Participant] = {}
    for host_id, (holder, seat_device, tags) in seats.items():
        directory = Directory()
        for other, intro in introductions.items():
            if other != host_id:
                directory.admit(intro.verify(talks_host_id))
        participant = Participant(
            talks_host_id,
            scenario.talks.id,
            identity=identities[holder],
            tag_key=tags,
            device_id=host_id,
            me=holder,
            engine_device=seat_device,
            introduction=introductions[host_id],
            directory=directory,
            random=nacl.utils.random,
        )
        participant.known_introductions = {d: i.to_json() for d, i in introductions.items()}
        participants[host_id] = participant
    play = _Player(participants, drivers, clock)
    for event in setup:
        play(event)
    omniscient = scenario.talks
    outcomes: list[Outcome] = []
    for step in scenario.steps:
        try:
            play(step.event)
        except RuleViolation as exc:
            outcomes.append(Outcome(step=step, seq=None, code=exc.code, message=exc.message))
            continue
        omniscient = engine.apply(omniscient, step.event)
        outcomes.append(Outcome(step=step, seq=omniscient.last.seq if omniscient.last else 0))
    play.sync_all()
    return StackRun(Transcript(scenario, omniscient, tuple(outcomes)), participants, drivers)


def _clock_time(clock: ReplayClock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


def _devices(setup: list[ev.Event], scenario: Scenario) -> dict[str, tuple[str, None]]:
    """Engine device id (or ``root:<party>``) → who holds it: every device the talks uses."""
    found: dict[str, tuple[str, None]] = {}
    for event in setup:
        if isinstance(event, ev.AddParty):
            found[f"root:{event.party}"] = (event.party, None)
        elif isinstance(event, ev.AddMember):
            found[event.first_device] = (event.member, None)
        elif isinstance(event, ev.AddDevice):
            found[event.new_device] = (event.member, None)
    for step in scenario.steps:
        if isinstance(step.event, ev.AddDevice):
            found[step.event.new_device] = (step.event.member, None)
    return found


class _Player:
    """Plays events through the devices that act them, then lets every addressee sync."""

    def __init__(
        self,
        participants: dict[str, Participant],
        drivers: dict[str, Driver],
        clock: ReplayClock,
    ) -> None:
        self.participants = participants
        self.drivers = drivers
        self.clock = clock

    def __call__(self, event: ev.Event) -> None:
        host_id, actor = self._acting(event)
        if actor.engine_device is not None and event.device is None:
            event = replace(event, device=actor.engine_device)
        self.clock.set(event.at)
        sent = self.drivers[host_id].act(actor, event)
        for device in [host_id, *sent]:
            self._sync(device)

    def _sync(self, host_id: str) -> None:
        participant = self.participants[host_id]
        self.drivers[host_id].sync({participant.talks_host_id: participant})

    def sync_all(self) -> None:
        """Every device syncs twice: what one sends in answer reaches the others."""
        for _ in range(2):
            for host_id in self.participants:
                self._sync(host_id)

    def _acting(self, event: ev.Event) -> tuple[str, Participant]:
        """The device that performs ``event``: the named device, a live one of the member, or a
        root."""
        candidates = [(h, p) for h, p in self.participants.items() if p.me == event.actor]
        if event.device is not None:
            named = [(h, p) for h, p in candidates if p.engine_device == event.device]
            candidates = named or candidates
        for host_id, participant in candidates:
            device = participant.view.devices.get(participant.engine_device or "")
            if participant.engine_device is None or device is None or not device.revoked:
                return host_id, participant
        if candidates:
            return candidates[0]
        raise RuleViolation(f"no device can act as {event.actor}")
