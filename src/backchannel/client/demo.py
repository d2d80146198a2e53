"""The demo talks ``make run`` opens: a scenario's talks as three (or more) real device profiles.

One profile per party, holding that party's root and its first member, as a delegation's laptop
would. The mediator's party convenes (or the first party, with no mediator); the others join by
invite exactly as ``backchannel talks join`` does. Then the rooms, and every step of the scenario
that one of these members performs, are acted again now, through the host, so each device's
engine checks them; steps by members without a profile here, and steps the scenario expects to
fail, are left out, each named with the reason. Profiles sync after every act, so each step sees
what the earlier ones sent. Last, a member who left a room during the scenario joins it again, so
the user's own relays reach every delegation's app.

Every act happens now (the record is the clock: an act may not claim a time in 2024), so the demo
keeps the scenario's own time of each message beside each profile (:data:`SCENARIO_TIMES`, only
the ids that profile can read); the web app shows it, marked as the scenario's, next to the time
the message was sent. It is presentation only, never part of the talks or the record.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backchannel import engine
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine.rules import Level, Role
from backchannel.errors import BackchannelError, ScenarioInvalid
from backchannel.replay import describe
from backchannel.scenario import Scenario

#: Fields every event has; the rest are what the act says.
_COMMON = frozenset({"at", "actor", "device"})
#: The file beside a demo profile: talks alias → message or request id → the scenario's time.
SCENARIO_TIMES = "scenario-times.json"

#: Told after each act: how many are done, how many there are in all, and which one it was.
OnStep = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A set-up act or step the demo could not play: what it was, and why."""

    what: str
    why: str

    def to_json(self) -> dict[str, str]:
        """As ``demo --json`` prints it."""
        return {"what": self.what, "why": self.why}


@dataclass
class Demo:
    """The profiles made, by party; what was left out; who joined a room again at the end."""

    profiles: dict[str, Path]
    members: dict[str, str]
    acted: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    rejoined: list[str] = field(default_factory=list)
    #: Message and contact-request ids → the scenario's time (ISO 8601) of the step that made it.
    times: dict[str, str] = field(default_factory=dict)


def build(
    scenario: Scenario,
    directory: Path,
    host_url: str,
    passphrase: str,
    *,
    kdf_limits: dict[str, int] | None = None,
    on_step: OnStep | None = None,
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
    rooms = [e for e in setup if isinstance(e, ev.CreateRoom | ev.Join)]
    steps = [s for s in scenario.steps if s.expect_error is None]
    total = len(parties) + len(rooms) + len(steps)
    done = 0

    def tell(what: str) -> None:
        nonlocal done
        done += 1
        if on_step is not None:
            on_step(done, total, what)

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
            title_names=scenario.title_names,
            party_names=convener.names,
            member_name=first[convener.party].name,
            member_names=first[convener.party].names,
        )
        tell(f"{convener.party} convenes {alias}")
        for party in ordered[1:]:
            invite = opened[convener.party].invite(alias, party.party)
            opened[party.party].join(
                invite,
                member=member_of[party.party],
                level=level[party.party],
                party_name=party.name,
                party_names=party.names,
                member_name=first[party.party].name,
                member_names=first[party.party].names,
            )
            _sync(opened)
            tell(f"{party.party} joins {alias}")
        demo = Demo({p: directory / p for p in opened}, member_of)
        owner = {member: party for party, member in member_of.items()}
        owner.update({party: party for party in opened})
        for event in rooms:
            what = f"set-up: {event.actor} {event.action.value} {describe(event)}"
            _play(opened, owner, alias, event, demo, what)
            tell(what)
        for step in steps:
            event = step.event
            what = f"step {step.index}: {event.actor} {event.action.value} {describe(event)}"
            if _play(opened, owner, alias, event, demo, what):
                key = getattr(event, "message", None) or getattr(event, "request", None)
                if isinstance(key, str):
                    demo.times[key] = event.at.isoformat()
            tell(what)
        _rejoin(opened, owner, alias, scenario, demo)
        for name, profile in opened.items():
            _write_times(directory / name, alias, profile.participant(alias), demo.times)
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
    what: str,
) -> bool:
    party = owner.get(event.actor)
    if isinstance(event, ev.Join):
        # A member joins a room itself here (the scenario may have its root add it).
        party = owner.get(event.member)
    if party is None:
        who = event.member if isinstance(event, ev.Join) else event.actor
        demo.skipped.append(Skipped(what, f"{who} has no device in the demo"))
        return False
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
        demo.skipped.append(Skipped(what, f"{exc.code}: {exc}"))
        return False
    demo.acted += 1
    _sync(opened)
    return True


def _rejoin(
    opened: dict[str, Profile], owner: dict[str, str], alias: str, scenario: Scenario, demo: Demo
) -> None:
    """Each demo member who left a room it had joined joins it again (so relays reach it)."""
    events = [*scenario.setup, *(s.event for s in scenario.steps if s.expect_error is None)]
    for event in events:
        if not isinstance(event, ev.Leave) or event.member not in owner:
            continue
        profile = opened[owner[event.member]]
        participant = profile.participant(alias)
        room = participant.view.rooms.get(event.room)
        if room is None or event.member in room.members:
            continue
        try:
            profile.act(participant, ev.Join, room=event.room, member=event.member)
        except BackchannelError as exc:
            demo.skipped.append(Skipped(f"{event.member} joining {event.room} again", exc.code))
            continue
        demo.rejoined.append(f"{event.member} ↔ {event.room}")
        _sync(opened)


def _write_times(path: Path, alias: str, participant: Participant, times: dict[str, str]) -> None:
    """The scenario's times of what this profile can read, beside it (0600, like its files)."""
    view = participant.view
    readable = {m.id for m in engine.messages_for(view, participant.me)}
    readable |= {c.id for c in view.contacts}
    mine = {key: at for key, at in sorted(times.items()) if key in readable}
    target = path / SCENARIO_TIMES
    target.write_text(json.dumps({alias: mine}, indent=2) + "\n", encoding="utf-8")
    os.chmod(target, 0o600)


def scenario_times(path: Path) -> dict[str, dict[str, str]]:
    """What :func:`build` left beside a profile (nothing for a profile the demo did not make)."""
    try:
        data = json.loads((path / SCENARIO_TIMES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(alias): {str(k): str(v) for k, v in times.items()}
        for alias, times in data.items()
        if isinstance(times, dict)
    }


def _sync(opened: dict[str, Profile]) -> None:
    for profile in opened.values():
        profile.sync()
