"""Cautions: an act the rules allow but whose effect the person acting would not expect.

The engine refuses what breaks a rule; a caution is different. A message sent into a caucus
before the mediator joined it can never be read by the mediator (a member reads only what is sent
while it is in the room), and a relay into a room where no member of its party is left reaches
nobody of that party. Both are legitimate acts, so nothing is refused: the CLI prints the caution
on stderr (and in ``--json`` as ``warnings``) and the web app shows it beside the result. Pure
functions over the device's view; a caution is judged before the act is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backchannel.engine.rules import Role, RoomKind
from backchannel.engine.state import Talks


@dataclass(frozen=True, slots=True)
class Caution:
    """A stable code and a sentence saying what will happen and what to do about it."""

    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def mediator_in_room(view: Talks, room: str) -> bool:
    """Whether a member of a mediating party is in ``room`` now."""
    found = view.rooms.get(room)
    if found is None:
        return False
    return any(_role(view, member) is Role.MEDIATOR for member in found.members)


def before_send(view: Talks, room: str) -> list[Caution]:
    """What to know before sending into ``room``: a caucus without its mediator."""
    found = view.rooms.get(room)
    if found is None or found.kind is not RoomKind.CAUCUS or mediator_in_room(view, room):
        return []
    return [
        Caution(
            "send.no_mediator_in_room",
            f"no mediator is in {found.name or room} yet: the mediator will never read this "
            f"message (members read only what is sent while they are in the room); wait until "
            f"the mediator has joined, or ask it to join first",
        )
    ]


def before_relay(view: Talks, room: str) -> list[Caution]:
    """What to know before carrying into ``room``: no member of its party is left there."""
    found = view.rooms.get(room)
    if found is None or found.party is None:
        return []
    if any(_party(view, member) == found.party for member in found.members):
        return []
    party = view.parties.get(found.party)
    who = (party.name if party is not None else "") or found.party
    return [
        Caution(
            "relay.no_party_member",
            f"no member of {who} is in {found.name or room} now: nobody of {who} will read "
            f"this relay; carry it when one of them has joined the room",
        )
    ]


def _party(view: Talks, member: str) -> str | None:
    found = view.members.get(member)
    return None if found is None else found.party


def _role(view: Talks, member: str) -> Role | None:
    party = _party(view, member)
    return None if party is None or party not in view.parties else view.parties[party].role
