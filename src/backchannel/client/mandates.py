"""Mandate tokens as they travel with acts: attached by the sending device, checked on receipt.

A **grant** travels with its Biscuit token: issued by the party's root when the root grants, else
the grantor's own token attenuated for the grantee and signed with the grantor's identity key. A
root's **confirmation** (VCLT Art. 8) travels with the token of the member whose acceptance ad
referendum it confirms, extended with the root's own ``confirms(<copy>)`` block. A receiving
device drops either act when its token is missing, forged, or says something other than the act;
an offline verifier checks the same tokens in a record bundle (:mod:`backchannel.client.bundle`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from backchannel import authority, engine
from backchannel.crypto import Identity
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import Level
from backchannel.errors import ConfirmNotAccepted, MandateForged


class Holder(Protocol):
    """What attaching or checking a token needs: the device's view, its identity, who is who."""

    @property
    def view(self) -> engine.Talks: ...

    @property
    def identity(self) -> Identity: ...

    @property
    def applied(self) -> Sequence[Mapping[str, Any]]:
        """Every item applied to the view, in order: grants with their tokens among them."""
        ...

    def identity_of(self, actor: str) -> bytes: ...


def party_of(talks: engine.Talks, member: str) -> str:
    """The party of ``member``; a token for someone these talks do not know is forged."""
    found = talks.members.get(member)
    if found is None:
        raise MandateForged(f"a mandate for {member}, whom these talks do not know")
    return found.party


def latest(
    items: Iterable[Mapping[str, Any]], talks: engine.Talks, member: str, at: datetime | None = None
) -> str | None:
    """The token of ``member``'s latest grant among ``items``: not revoked now, or, given ``at``,
    made by then and not revoked by then (the token it acted under at that time)."""
    for item in reversed(list(items)):
        token = item.get("mandate")
        grant = codec.decode(item["event"]) if token is not None else None
        if not isinstance(grant, ev.Grant) or grant.member != member:
            continue
        held = talks.grants.get(grant.grant)
        if held is None:
            continue
        if at is None and held.revoked_at is None:
            return str(token)
        if at is not None and held.at <= at and (held.revoked_at is None or held.revoked_at > at):
            return str(token)
    return None


# --- grants ----------------------------------------------------------------------------------


def for_grant(holder: Holder, grant: ev.Grant) -> str:
    """The token carrying ``grant``: issued if the root grants, else the grantor's own token
    attenuated for the grantee, signed with the grantor's identity key."""
    party = party_of(holder.view, grant.member)
    fields: dict[str, Any] = {
        "grant": grant.grant,
        "member": grant.member,
        "level": grant.level,
        "expires": grant.expires,
    }
    to_holder = holder.identity_of(grant.member)
    if grant.actor == party:
        return authority.issue(
            holder.identity, talks=holder.view.id, party=party, holder=to_holder, **fields
        )
    own = latest(holder.applied, holder.view, grant.actor)
    if own is None:
        raise MandateForged(f"{grant.actor} holds no mandate token to delegate from")
    root = holder.identity_of(party)
    return authority.delegate(own, root, holder.identity, to_holder=to_holder, **fields)


def check_grant(holder: Holder, grant: ev.Grant, token: Any) -> None:
    """A grant travels with its token, which must say exactly what the grant says."""
    if not isinstance(token, str):
        raise MandateForged(f"grant {grant.grant!r} travels without its mandate token")
    party = party_of(holder.view, grant.member)
    mandate = authority.check(
        token,
        holder.identity_of(party),
        talks=holder.view.id,
        holder=holder.identity_of(grant.member),
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


def for_confirm(holder: Holder, confirm: ev.Confirm) -> str:
    """The accepting member's token (the one it acted under), with the root's confirmation of
    ``confirm.proposal`` appended and signed by the root's identity key (this device's)."""
    accepted = holder.view.acceptance(confirm.actor, confirm.proposal, confirm.at)
    if accepted is None:
        raise ConfirmNotAccepted(f"no member of {confirm.actor} accepted {confirm.proposal!r}")
    token = latest(holder.applied, holder.view, accepted.member, accepted.at)
    if token is None:
        raise MandateForged(f"this device holds no token of {accepted.member} to confirm")
    root = holder.identity_of(confirm.actor)
    return authority.confirm(token, root, holder.identity, confirm.proposal)


def check_confirm(holder: Holder, confirm: ev.Confirm, token: Any) -> None:
    """A confirmation travels with the token of the member whose acceptance it confirms, carrying
    the root's ``confirms`` block for the same copy. With no such acceptance in this view the
    engine refuses the act next, with its own code."""
    accepted = holder.view.acceptance(confirm.actor, confirm.proposal, confirm.at)
    if accepted is None:
        return
    if not isinstance(token, str):
        raise MandateForged(f"the confirmation of {confirm.proposal!r} travels without a token")
    mandate = authority.read(token, holder.identity_of(confirm.actor))
    if mandate.talks != holder.view.id or mandate.party != confirm.actor:
        raise MandateForged("the confirmation's token is for other talks or another party")
    last = mandate.last
    if last.member != accepted.member or last.holder != holder.identity_of(accepted.member):
        raise MandateForged(
            f"the confirmation's token is not that of {accepted.member}, whose acceptance it "
            "confirms"
        )
    if confirm.proposal not in mandate.confirms:
        raise MandateForged(
            f"the token carries no confirmation of {confirm.proposal!r} by {confirm.actor}'s root"
        )


def _seconds(at: datetime | None) -> int | None:
    """A time as tokens hold it: whole seconds."""
    return None if at is None else int(at.timestamp())
