"""Who may join a talks, and whose word a device takes that another device is who it says.

A device enters a talks with an **invite**: a secret, passed out of band, that a device of the
talks issued for one purpose (:class:`Admission`):

- ``party`` — issued by the talks' convener: the device of a new party's root authority (and its
  first member), which declares its party once admitted;
- ``member`` — issued by a device holding a party's root: a new member of that party, whose
  root then adds it (``AddMember``) and grants its mandate;
- ``device`` — issued by a member's device: another device of the same member, holding the same
  identity key, which the member then adds (``AddDevice``).

The newcomer introduces itself to the issuing device (its **sponsor**) with the secret; the
sponsor admits it if the introduction is what the invite was for (:func:`check_admits`), then
forwards the introduction to every device of the talks and welcomes the newcomer with theirs.
A device takes a forwarded introduction only from a device that may vouch for it
(:func:`vouches`): its own sponsor (who welcomed it, and whose identity it took from its invite),
the talks' convener, a root device of the newcomer's party, or a device of the same identity.
The engine then decides whether the acts that follow (``AddParty``, ``AddMember``,
``AddDevice``) stand. The host sees none of this: introductions travel inside Olm envelopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backchannel.client.directory import Peer
from backchannel.engine.rules import Level
from backchannel.errors import IntroductionRejected


class Purpose(StrEnum):
    """What an invite admits."""

    PARTY = "party"
    MEMBER = "member"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class Admission:
    """What one invite admits: a purpose, a party, and for a member or device, which member."""

    purpose: Purpose
    party: str
    member: str | None = None
    level: Level | None = None
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        """As the invite string and the profile carry it."""
        return {
            "purpose": self.purpose.value,
            "party": self.party,
            "member": self.member,
            "level": None if self.level is None else self.level.label,
            "name": self.name,
        }

    @classmethod
    def from_json(cls, data: Any) -> Admission:
        """Parse; ValueError, KeyError or TypeError if it is not an admission."""
        if not isinstance(data, dict) or set(data) != {"purpose", "party", "member", "level"} | {
            "name"
        }:
            raise ValueError("an admission holds purpose, party, member, level and name")
        member, level = data["member"], data["level"]
        if not isinstance(data["party"], str) or not isinstance(data["name"], str):
            raise TypeError("party and name are text")
        if member is not None and not isinstance(member, str):
            raise TypeError("member is text or null")
        return cls(
            Purpose(data["purpose"]),
            data["party"],
            member,
            None if level is None else Level.parse(str(level)),
            data["name"],
        )


def check_admits(admission: Admission, newcomer: Peer, sponsor: Peer) -> None:
    """The introduction ``newcomer`` sent is what ``admission`` was issued for, by ``sponsor``."""
    if newcomer.party != admission.party:
        raise IntroductionRejected(f"the invite admits {admission.party}, not {newcomer.party}")
    if admission.purpose is Purpose.PARTY:
        if not newcomer.root:
            raise IntroductionRejected("a party's invite admits the device of its root")
        return
    if newcomer.member != admission.member:
        raise IntroductionRejected(f"the invite admits {admission.member}, not {newcomer.member}")
    if admission.purpose is Purpose.MEMBER and newcomer.root:
        raise IntroductionRejected("a member's invite does not admit a party's root authority")
    if admission.purpose is Purpose.DEVICE and (
        newcomer.identity != sponsor.identity or newcomer.root != sponsor.root
    ):
        raise IntroductionRejected("a device's invite admits a device of the same identity")


def vouches(sender: Peer, newcomer: Peer, trusted: frozenset[str]) -> bool:
    """Whether ``sender`` may introduce ``newcomer`` (``trusted``: the host device ids of this
    device's sponsor and of the talks' convener)."""
    return (
        sender.host_device in trusted
        or (sender.root and sender.party == newcomer.party)
        or sender.identity == newcomer.identity
    )
