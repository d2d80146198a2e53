"""What the page is shown: a device's talks, rooms and messages as plain JSON values.

Everything comes from the device's own engine view (:func:`engine.messages_for`), so the page
sees exactly what the CLI's ``read`` prints and nothing more: a gist relay reaches a party without
any link to its source, and a room the device's member is not in is not listed at all. The relay
modes a message allows come from the carry-label table (:data:`rules.RELAY_MODES`); the page only
uses them to disable buttons — the engine checks every relay again when it is asked.

Each party, member, room and the talks' title comes with its ``names`` in other languages (the
scenario's or the convener's): the page shows the one in its own language, else ``name``.
"""

from __future__ import annotations

from typing import Any

from backchannel import engine
from backchannel.client import cautions
from backchannel.client.demo import scenario_times
from backchannel.client.document import shown
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.engine.names import NO_NAMES
from backchannel.engine.rules import RELAY_MODES, Label, RelayMode, Role
from backchannel.replay import message_json


def state_json(profile: Profile) -> dict[str, Any]:
    """The whole page state of an open profile (call with its sync lock held)."""
    times = scenario_times(profile.path)
    return {
        "profile": {"name": profile.name, "fingerprint": profile.fingerprint},
        "talks": [
            {
                **talks_json(alias, profile.titles.get(alias, ""), participant, times.get(alias)),
                "title_names": profile.title_names.get(alias, NO_NAMES).to_json(),
            }
            for alias, participant in sorted(profile.talks.items())
        ],
    }


def talks_json(
    alias: str, title: str, participant: Participant, times: dict[str, str] | None = None
) -> dict[str, Any]:
    """One talks as this device's member sees it: its role, the parties, its rooms.

    ``times``: the scenario's time of each message or request the demo replayed (shown beside
    the time it was sent, marked as the scenario's; None for talks the demo did not make)."""
    times = times or {}
    view = participant.view
    me = participant.me
    party = _party_of(view, me)
    mediating = is_mediating(view, me)
    readable = engine.messages_for(view, me)
    rooms = [room for room in view.rooms.values() if me in room.members]
    return {
        "alias": alias,
        "title": title,
        "me": me,
        "party": party,
        "role": Role.MEDIATOR.value if mediating else Role.PARTY.value,
        "parties": [
            {"id": p.id, "role": p.role.value, "name": p.name or p.id, "names": p.names.to_json()}
            for p in sorted(view.parties.values(), key=lambda p: p.id)
        ],
        "members": [
            {"id": m.id, "party": m.party, "name": m.name or m.id, "names": m.names.to_json()}
            for m in sorted(view.members.values(), key=lambda m: m.id)
        ],
        "rooms": [
            {
                "id": room.id,
                "kind": room.kind.value,
                "party": room.party,
                "name": room.name or room.id,
                "names": room.names.to_json(),
                "members": sorted(room.members),
                # No mediator in the room: the page does not offer "mediator only" there.
                "mediator_in_room": cautions.mediator_in_room(view, room.id),
                "messages": [
                    {**_message(view, m, me, mediating), "scenario_at": times.get(m.id)}
                    for m in readable
                    if m.room == room.id
                ],
            }
            for room in sorted(rooms, key=lambda r: (r.kind.value, r.id))
        ],
        "contacts": [
            {
                "id": c.id,
                "party": c.party,
                "member": c.member,
                "to": c.to_party,
                "via": c.via,
                "at": c.at.isoformat(),
                "scenario_at": times.get(c.id),
                "text": c.text,
            }
            for c in view.contacts
        ],
        "dropped": len(participant.dropped),
    }


def is_mediating(view: engine.Talks, me: str) -> bool:
    """Whether ``me`` is a member of the mediator's party."""
    party = _party_of(view, me)
    return party is not None and view.parties[party].role is Role.MEDIATOR


def carriable(author: str, relay: RelayMode | None, me: str, mediating: bool) -> bool:
    """Whether the page offers to carry an item: the mediator may carry what others said (or
    sent), never what it relayed or said itself."""
    return mediating and relay is None and author != me


def carry_modes(label: Label) -> list[str]:
    """The relay modes an item's carry label allows, as the page lists them."""
    return sorted(mode.value for mode in RELAY_MODES[label])


def _message(view: engine.Talks, m: engine.Message, me: str, mediating: bool) -> dict[str, Any]:
    carry = carriable(m.author, m.relay, me, mediating)
    return {
        **message_json(m),
        # A document shows as its name and size: its descriptor holds its key.
        "text": shown(m.text, m.id, how=False),
        "party": _party_of(view, m.author),
        "mine": m.author == me,
        "gist_by_mediator": m.relay is RelayMode.GIST,
        "relay_modes": carry_modes(m.label) if carry else [],
        "carriable": carry,
    }


def _party_of(view: engine.Talks, actor: str) -> str | None:
    member = view.members.get(actor)
    if member is not None:
        return member.party
    return actor if actor in view.parties else None
