"""Mandates: what level a member holds at its present place in the record, and why not when it
holds none.

A member's level is the highest of its grants that is *live*: not revoked, not expired, and either
issued by the party's root or by a grantor who, at that same place, itself holds a live mandate of
at least the granted level. Validity is evaluated through the whole chain, so revoking (or letting
expire) a grantor voids every grant it made until someone with standing re-issues them.

A revocation counts from its place in the record: the talks given here are the state after every
event before the present place, so a grant revoked in it is revoked, whatever time anyone claims.
Expiry is a time, judged at ``at``: the record's time at the present place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from backchannel.engine.rules import Level
from backchannel.engine.state import MandateGrant, Talks


class Lapse(StrEnum):
    """Why a grant, or a member's whole mandate, is not live."""

    NONE = "none"  # never granted anything
    REVOKED = "revoked"  # revoked, or its chain was
    EXPIRED = "expired"  # past its expiry, or its chain is


@dataclass(frozen=True, slots=True)
class Standing:
    """A member's mandate at a time: its level, or None and the reason."""

    level: Level | None
    lapse: Lapse | None = None


def standing(talks: Talks, member: str, at: datetime) -> Standing:
    """The mandate ``member`` holds in ``talks`` when the record's time is ``at``."""
    return _standing(talks, member, at, frozenset())


def _standing(talks: Talks, member: str, at: datetime, seen: frozenset[str]) -> Standing:
    best: Level | None = None
    lapses: set[Lapse] = set()
    for grant in talks.grants.values():
        if grant.member != member or grant.id in seen:
            continue
        lapse = _grant_lapse(talks, grant, at, seen | {grant.id})
        if lapse is None:
            best = grant.level if best is None else max(best, grant.level)
        else:
            lapses.add(lapse)
    if best is not None:
        return Standing(best)
    # Expiry is the more useful thing to tell someone: it can be renewed without a new decision.
    if Lapse.EXPIRED in lapses:
        return Standing(None, Lapse.EXPIRED)
    if Lapse.REVOKED in lapses:
        return Standing(None, Lapse.REVOKED)
    return Standing(None, Lapse.NONE)


def _grant_lapse(
    talks: Talks, grant: MandateGrant, at: datetime, seen: frozenset[str]
) -> Lapse | None:
    if grant.revoked_at is not None:
        return Lapse.REVOKED
    if grant.expires is not None and grant.expires <= at:
        return Lapse.EXPIRED
    if grant.grantor is None:
        return None
    upstream = _standing(talks, grant.grantor, at, seen)
    if upstream.level is None:
        return upstream.lapse if upstream.lapse is not Lapse.NONE else Lapse.REVOKED
    return None if upstream.level >= grant.level else Lapse.REVOKED


def holders(talks: Talks, party: str, at: datetime) -> dict[str, Level]:
    """Every member of ``party`` with a live mandate when the record's time is ``at``."""
    result: dict[str, Level] = {}
    for member in talks.members.values():
        if member.party != party:
            continue
        level = standing(talks, member.id, at).level
        if level is not None:
            result[member.id] = level
    return result
