"""Mandate tokens as they travel with acts: attached by the sending device, checked at the act's
place in the record.

A **grant** travels with its Biscuit token: issued by the party's root when the root grants, else
the grantor's own token attenuated for the grantee and signed with the grantor's identity key. A
root's **confirmation** (VCLT Art. 8) travels with the token of the member whose acceptance ad
referendum it confirms, extended with the root's own ``confirms(<copy>)`` block. Every token
names the host's talks id (never an alias), so none is valid in other talks. A device refuses
either act when its token is missing, forged, or says something other than the act; an offline
verifier checks the same tokens in a record bundle (:mod:`backchannel.client.bundle`).

Which grant stands, and which acceptance a confirmation confirms, is the engine's answer at the
act's place (``view``): nothing here re-decides a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from backchannel import authority, engine
from backchannel.client.wire import EventItem
from backchannel.crypto import Identity
from backchannel.engine import events as ev
from backchannel.engine.rules import Level
from backchannel.errors import ConfirmNotAccepted, MandateForged

IdentityOf = Callable[[str], bytes]


def party_of(view: engine.Talks, member: str) -> str:
    """The party of ``member``; a token for someone these talks do not know is forged."""
    found = view.members.get(member)
    if found is None:
        raise MandateForged(f"a mandate for {member}, whom these talks do not know")
    return found.party


def standing_token(
    items: Iterable[EventItem], view: engine.Talks, member: str, at: datetime
) -> str | None:
    """The token of the grant ``member`` acts under in ``view`` when the record's time is ``at``:
    its latest grant (``items`` in record order) that the engine holds live."""
    for item in reversed(list(items)):
        if item.mandate is None or item.event.get("action") != "grant":
            continue
        grant = view.grants.get(str(item.event.get("grant")))
        if grant is None or grant.member != member or grant.revoked_at is not None:
            continue
        if grant.expires is None or grant.expires > at:
            return item.mandate
    return None


# --- grants ----------------------------------------------------------------------------------


def for_grant(
    talks: str,
    view: engine.Talks,
    identity: Identity,
    identity_of: IdentityOf,
    items: Iterable[EventItem],
    grant: ev.Grant,
) -> str:
    """The token carrying ``grant``: issued if the root grants, else the grantor's own token
    attenuated for the grantee, signed with the grantor's identity key."""
    party = party_of(view, grant.member)
    fields: dict[str, Any] = {
        "grant": grant.grant,
        "member": grant.member,
        "level": grant.level,
        "expires": grant.expires,
    }
    to_holder = identity_of(grant.member)
    if grant.actor == party:
        return authority.issue(identity, talks=talks, party=party, holder=to_holder, **fields)
    own = standing_token(items, view, grant.actor, grant.at)
    if own is None:
        raise MandateForged(f"{grant.actor} holds no mandate token to delegate from")
    return authority.delegate(own, identity_of(party), identity, to_holder=to_holder, **fields)


def check_grant(
    talks: str, view: engine.Talks, identity_of: IdentityOf, grant: ev.Grant, token: str | None
) -> None:
    """A grant travels with its token, which must say exactly what the grant says."""
    if token is None:
        raise MandateForged(f"grant {grant.grant!r} travels without its mandate token")
    party = party_of(view, grant.member)
    mandate = authority.check(
        token,
        identity_of(party),
        talks=talks,
        holder=identity_of(grant.member),
        needs=Level.OBSERVE,
        at=grant.at,
    )
    last = mandate.last
    said = (last.grant, last.member, last.level, _seconds(last.expires))
    meant = (grant.grant, grant.member, grant.level, _seconds(grant.expires))
    if mandate.party != party or said != meant:
        raise MandateForged(f"the token of grant {grant.grant!r} says something else")
    grantor = grant.actor if grant.actor != party else None
    chain = mandate.links[-2].member if len(mandate.links) > 1 else None
    if chain != grantor:
        raise MandateForged(f"the token of grant {grant.grant!r} comes from someone else")


# --- confirmations ---------------------------------------------------------------------------


def for_confirm(
    view: engine.Talks,
    identity: Identity,
    identity_of: IdentityOf,
    items: Iterable[EventItem],
    confirm: ev.Confirm,
) -> str:
    """The accepting member's token (the one it acted under), with the root's confirmation of
    ``confirm.proposal`` appended and signed by the root's identity key (this device's)."""
    accepted = view.acceptance(confirm.actor, confirm.proposal)
    if accepted is None:
        raise ConfirmNotAccepted(f"no member of {confirm.actor} accepted {confirm.proposal!r}")
    token = standing_token(items, view, accepted.member, accepted.at)
    if token is None:
        raise MandateForged(f"this device holds no token of {accepted.member} to confirm")
    return authority.confirm(token, identity_of(confirm.actor), identity, confirm.proposal)


def check_confirm(
    talks: str,
    view: engine.Talks,
    identity_of: IdentityOf,
    confirm: ev.Confirm,
    token: str | None,
) -> str | None:
    """A confirmation travels with the token of the member whose acceptance it confirms, carrying
    the root's ``confirms`` block for the same copy; that member (None: the engine finds no
    acceptance and refuses the act with its own code)."""
    accepted = view.acceptance(confirm.actor, confirm.proposal)
    if accepted is None:
        return None
    if token is None:
        raise MandateForged(f"the confirmation of {confirm.proposal!r} travels without a token")
    mandate = authority.read(token, identity_of(confirm.actor))
    if mandate.talks != talks or mandate.party != confirm.actor:
        raise MandateForged("the confirmation's token is for other talks or another party")
    last = mandate.last
    if last.member != accepted.member or last.holder != identity_of(accepted.member):
        raise MandateForged(
            f"the confirmation's token is not that of {accepted.member}, whose acceptance it "
            "confirms"
        )
    if confirm.proposal not in mandate.confirms:
        raise MandateForged(
            f"the token carries no confirmation of {confirm.proposal!r} by {confirm.actor}'s root"
        )
    return accepted.member


def check_placed(
    talks: str, view: engine.Talks, identity_of: IdentityOf, event: ev.Event, item: EventItem
) -> None:
    """At an act's place: a grant's and a confirmation's token say what the act says; no other
    act carries one."""
    if isinstance(event, ev.Grant):
        check_grant(talks, view, identity_of, event, item.mandate)
    elif isinstance(event, ev.Confirm):
        check_confirm(talks, view, identity_of, event, item.mandate)
    elif item.mandate is not None:
        raise MandateForged(f"a {event.action.value} carries no mandate token")


def _seconds(at: datetime | None) -> int | None:
    """A time as tokens hold it: whole seconds."""
    return None if at is None else int(at.timestamp())
