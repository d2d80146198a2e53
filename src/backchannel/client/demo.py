"""The demo talks ``make run`` opens: a scenario's talks as three (or more) real device profiles.

One profile per party, holding that party's root and its first member, as a delegation's laptop
would. The mediator's party convenes (or the first party, with no mediator); the others join by
invite exactly as ``backchannel talks join`` does. Then the rooms, and every step of the scenario
that one of these members performs, are acted again now, through the host, so each device's
engine checks them; steps by members without a profile here, and steps the scenario expects to
fail, are left out. Profiles sync after every act, so each step sees what the earlier ones sent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine.rules import Level, Role
from backchannel.errors import BackchannelError, ScenarioInvalid
from backchannel.scenario import Scenario

#: Fields every event has; the rest are what the act says.
_COMMON = frozenset({"at", "actor", "device"})


@dataclass
class Demo:
    """The profiles made, by party, and what was left out (step id → why)."""

    profiles: dict[str, Path]
    members: dict[str, str]
    acted: int = 0
    skipped: dict[str, str] = field(default_factory=dict)


def build(
    scenario: Scenario,
    directory: Path,
    host_url: str,
    passphrase: str,
    *,
    kdf_limits: dict[str, int] | None = None,
) -> Demo:
    """Make one profile per party under ``directory`` and play ``scenario`` through them."""
    setup = scenario.setup
    parties = [e for e in setup if isinstance(e, ev.AddParty)]
    first: dict[str, ev.AddMember] = {}
    for event in setup:
        if isinstance(event, ev.AddMember):
            first.setdefault(event.party, event)
    levels = {e.member: e.level for e in setup if isinstance(e, ev.Grant)}
    missing = [p.party for p in parties if p.party not in first]
    if missing:
        raise ScenarioInvalid(scenario.path, None, f"parties without a member: {missing}")
    convener = next((p for p in parties if p.role is Role.MEDIATOR), parties[0])
    ordered = [convener, *(p for p in parties if p is not convener)]
    alias = scenario.talks.id
    title = str(scenario.info.get("title", ""))
    opened: dict[str, Profile] = {}
    try:
        for party in ordered:
            opened[party.party] = Profile.create(
                directory / party.party,
                passphrase,
                host_url=host_url,
                name=party.name or party.party,
                kdf_limits=kdf_limits,
            )
        member_of = {p: first[p].member for p in opened}
        level = {p: levels.get(member_of[p], Level.PROPOSE) for p in opened}
        opened[convener.party].create_talks(
            alias,
            party=convener.party,
            member=member_of[convener.party],
            level=level[convener.party],
            mediator=convener.role is Role.MEDIATOR,
            title=title,
            party_name=convener.name,
        )
        for party in ordered[1:]:
            invite = opened[convener.party].invite(alias, party.party)
            opened[party.party].join(
                invite,
                member=member_of[party.party],
                level=level[party.party],
                party_name=party.name,
            )
            _sync(opened)
        demo = Demo({p: directory / p for p in opened}, member_of)
        owner = {member: party for party, member in member_of.items()}
        owner.update({party: party for party in opened})
        for event in setup:
            if isinstance(event, ev.CreateRoom | ev.Join):
                _play(opened, owner, alias, event, demo, event.actor)
        for step in scenario.steps:
            if step.expect_error is not None:
                continue
            _play(opened, owner, alias, step.event, demo, _step_id(step.event, step.index))
        return demo
    finally:
        for profile in opened.values():
            profile.close()


def _play(
    opened: dict[str, Profile],
    owner: dict[str, str],
    alias: str,
    event: ev.Event,
    demo: Demo,
    name: str,
) -> None:
    party = owner.get(event.actor)
    if isinstance(event, ev.Join):
        # A member joins a room itself here (the scenario may have its root add it).
        party = owner.get(event.member)
    if party is None:
        demo.skipped[name] = f"{event.actor} has no device in the demo"
        return
    profile = opened[party]
    participant: Participant = profile.participant(alias)
    fields: dict[str, Any] = {
        f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name not in _COMMON
    }
    if event.actor == party and not isinstance(event, ev.Join):
        fields["actor"] = party
    try:
        profile.act(participant, type(event), **fields)
    except BackchannelError as exc:
        demo.skipped[name] = exc.code
        return
    demo.acted += 1
    _sync(opened)


def _sync(opened: dict[str, Profile]) -> None:
    for profile in opened.values():
        profile.sync()


def _step_id(event: ev.Event, index: int) -> str:
    for key in ("message", "request", "grant", "proposal", "room"):
        value = getattr(event, key, None)
        if isinstance(value, str):
            return value
    return f"step-{index}"
