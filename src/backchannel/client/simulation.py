"""Replaying a scenario through a real host: one device per member device and per party root.

Every member and every party's root authority gets an Ed25519 identity; every device named in the
scenario gets a vodozemac account registered at the host under an **opaque random id** (the host
never learns a name). Each device verifies every other device's certificate against the identity
it was told out of band, the convener admits every device by invite, and then the set-up and the
steps are played by the acting devices (:class:`Participant`): each step is checked by the acting
device's own engine, encrypted to its audience, sent, and every device syncs, decrypts, verifies
and applies. The transcript has the engine replay's shape, plus a ``stack`` section with what the
devices themselves hold.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from backchannel import engine
from backchannel.client import bundle
from backchannel.client.directory import Directory, Introduction, Peer
from backchannel.client.host import HostClient
from backchannel.client.participant import Participant
from backchannel.crypto import Device, DeviceCertificate, Identity, verify_device
from backchannel.engine import events as ev
from backchannel.errors import RuleViolation
from backchannel.replay import Outcome, Transcript
from backchannel.scenario import Scenario
from backchannel.server import HostConfig, Limits
from backchannel.server.local import serve_locally


@contextmanager
def temporary_host(db_url: str) -> Iterator[str]:
    """A host on a free 127.0.0.1 port for the block's duration; yields its URL."""
    # A simulation sends in bursts from one process: the per-device rate limit is off.
    with serve_locally(HostConfig(db_url=db_url, limits=Limits(rate_per_s=0))) as url:
        yield url


@dataclass
class StackRun:
    """A replay through the host: the transcript and every device's participant."""

    transcript: Transcript
    participants: dict[str, Participant]  # host device id → participant

    def close(self) -> None:
        """Close every device's connection to the host."""
        for participant in self.participants.values():
            participant.host.close()

    def export_record(self, *, with_content: bool = False) -> dict[str, Any]:
        """The record bundle as the mediator's first device sees it (or, with no mediator, the
        first party's root), verified before it is returned."""
        talks = self.transcript.talks
        party = talks.mediator.id if talks.mediator is not None else next(iter(talks.parties))
        exporter = next(
            (
                p
                for p in self.participants.values()
                if p.me in talks.members and talks.members[p.me].party == party
            ),
            None,
        ) or next(p for p in self.participants.values() if p.me == party)
        data = bundle.export(exporter, with_content=with_content)
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
                "verified_events": sum(len(p.witness.verified) for p in self.participants.values()),
                "alarms": [
                    {"device": host_id, **alarm.to_json()}
                    for host_id, p in self.participants.items()
                    for alarm in p.witness.alarms
                ],
            },
        }
        return data


def run(scenario: Scenario, host_url: str) -> StackRun:
    """Replay ``scenario`` through the host at ``host_url``."""
    setup = list(scenario.setup)
    devices = _devices(setup, scenario)
    identities = {name: Identity.generate() for name in {holder for holder, _ in devices.values()}}
    clients: dict[str, tuple[HostClient, str, str | None]] = {}
    certificates: dict[str, DeviceCertificate] = {}
    directory = Directory()
    parties = {e.party: e for e in setup if isinstance(e, ev.AddParty)}
    members = {e.member: e.party for e in setup if isinstance(e, ev.AddMember)}
    for engine_device, (holder, _) in devices.items():
        client = HostClient(host_url, Device(f"dev-{secrets.token_hex(8)}"))
        certificate = client.register(identities[holder])
        certificates[client.device.device_id] = certificate
        is_root = holder in parties
        clients[client.device.device_id] = (client, holder, None if is_root else engine_device)
        directory.peers[client.device.device_id] = Peer(
            host_device=client.device.device_id,
            curve25519=certificate.curve25519,
            identity=certificate.identity,
            party=holder if is_root else members[holder],
            member=None if is_root else holder,
            engine_device=None if is_root else engine_device,
            root=is_root,
        )
    convener = next(iter(clients.values()))[0]
    talks_host_id = convener.create_talks()
    for client, _, _ in clients.values():
        if client is not convener:
            client.accept(convener.invite(talks_host_id))
        client.publish_one_time_keys(len(clients) + 2)
    for peer in directory.peers.values():
        # Each device checks the host's copy of every certificate against the known identity.
        holder = peer.party if peer.member is None else peer.member
        verify_device(convener.device_certificate(peer.host_device), identities[holder].public_key)
    participants = {
        host_id: Participant(
            client,
            identities[holder],
            directory,
            talks_host_id,
            scenario.talks.id,
            me=holder,
            engine_device=engine_device,
        )
        for host_id, (client, holder, engine_device) in clients.items()
    }
    # Each device introduces itself as a real one does: what a record bundle names it by.
    introductions = {
        host_id: Introduction.make(
            identities[participants[host_id].me],
            certificates[host_id],
            talks_host_id,
            peer.party,
            peer.member,
            peer.root,
        )
        for host_id, peer in directory.peers.items()
    }
    for host_id, participant in participants.items():
        participant.introduction = introductions[host_id]
        participant.known_introductions = {d: i.to_json() for d, i in introductions.items()}
    for event in setup:
        _play(participants, event)
    omniscient = scenario.talks
    outcomes: list[Outcome] = []
    for step in scenario.steps:
        try:
            _play(participants, step.event)
        except RuleViolation as exc:
            outcomes.append(Outcome(step=step, seq=None, code=exc.code, message=exc.message))
            continue
        omniscient = engine.apply(omniscient, step.event)
        outcomes.append(Outcome(step=step, seq=omniscient.log[-1].seq))
    # Every device witnesses the record: each event it holds is proven in the signed checkpoint.
    for participant in participants.values():
        participant.watch()
    return StackRun(Transcript(scenario, omniscient, tuple(outcomes)), participants)


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


def _acting(participants: dict[str, Participant], event: ev.Event) -> Participant:
    """The device that performs ``event``: the named device, a live one of the member, or a root."""
    candidates = [p for p in participants.values() if p.me == event.actor]
    if event.device is not None:
        candidates = [p for p in candidates if p.engine_device == event.device] or candidates
    for participant in candidates:
        device = participant.view.devices.get(participant.engine_device or "")
        if participant.engine_device is None or device is None or device.revoked_at is None:
            return participant
    if candidates:
        return candidates[0]
    raise RuleViolation(f"no device can act as {event.actor}")


def _play(participants: dict[str, Participant], event: ev.Event) -> None:
    actor = _acting(participants, event)
    if actor.engine_device is not None and event.device is None:
        event = replace(event, device=actor.engine_device)
    for device in actor.act(event):
        participants[device].sync()
