"""The Mandates page's API: who may do what for each party, and granting or revoking a mandate.

    GET  /api/mandates[?talks=…]   every talks of the device (or one): each party's members, the
                                   level each holds now and every grant it received (level,
                                   grantor, expiry, revocation), and the devices that act for it
                                   with their owners' fingerprints, to compare out of band
    POST /api/mandates/grant       {talks, member, level, expires?}
    POST /api/mandates/revoke      {talks, member}
    POST /api/mandates/member      {talks, member, level, name?} → an invite for a new member of
                                   this device's party (its root's device only)
    POST /api/mandates/device/link {talks, passphrase} → a device link for another device of this
                                   device's member, sealed under that passphrase
    POST /api/mandates/device/revoke {talks, device} → revoke a device in the talks

The device acts as its member (its party's root, for a root-only device), exactly as the CLI does.
The levels the page offers, up to what that member holds now, only spare the user a refusal: the
device's own engine checks every grant and revocation (the grantor's party, attenuation, a lapsed
mandate, an expiry in the past) and refuses with its rule's code, and a refused act never leaves
the device, so nothing changes. The devices are the directory's, as ``backchannel talks list
--json`` shows them (:meth:`Directory.devices_json`); levels and lapses are the engine's
(:func:`engine.standing`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.routing import Route

from backchannel import engine
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine.names import NO_NAMES
from backchannel.engine.rules import Level
from backchannel.errors import FormInvalid
from backchannel.ui.api import form_action, talks_view
from backchannel.ui.feed import Notice
from backchannel.ui.forms import json_object, text_field
from backchannel.ui.session import DeviceSession


def routes(session: DeviceSession) -> list[Route]:
    """The page's routes over ``session``."""

    return [
        talks_view("/api/mandates", lambda alias: mandates_json(session, alias)),
        form_action("/api/mandates/grant", parse_grant, lambda form: grant(session, form)),
        form_action("/api/mandates/revoke", parse_revoke, lambda form: revoke(session, form)),
        form_action("/api/mandates/member", parse_member, lambda form: add_member(session, form)),
        form_action("/api/mandates/device/link", parse_link, lambda form: link(session, form)),
        form_action(
            "/api/mandates/device/revoke",
            parse_revoke_device,
            lambda form: revoke_device(session, form),
        ),
    ]


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantForm:
    """Grant ``member`` of ``talks`` a mandate of ``level``, until ``expires`` if given."""

    talks: str
    member: str
    level: Level
    expires: datetime | None = None


@dataclass(frozen=True, slots=True)
class RevokeForm:
    """Revoke every mandate ``member`` of ``talks`` holds."""

    talks: str
    member: str


@dataclass(frozen=True, slots=True)
class MemberForm:
    """Invite ``member`` into this device's party in ``talks``, with a mandate of ``level``."""

    talks: str
    member: str
    level: Level
    name: str = ""


@dataclass(frozen=True, slots=True)
class LinkForm:
    """A link for another device of this device's member, sealed under ``passphrase``."""

    talks: str
    passphrase: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RevokeDeviceForm:
    """Revoke ``device`` in ``talks``."""

    talks: str
    device: str


def parse_member(body: bytes) -> MemberForm:
    """A member's invite request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "member", "level", "name"))
    name = data.get("name") or ""
    if not isinstance(name, str):
        raise FormInvalid("name", "must be a string")
    return MemberForm(
        talks=text_field(data, "talks"),
        member=text_field(data, "member"),
        level=_level(data, "level"),
        name=name.strip(),
    )


def parse_link(body: bytes) -> LinkForm:
    """A device link request; the passphrase has at least 8 characters."""
    data = json_object(body, ("talks", "passphrase"))
    passphrase = data.get("passphrase")
    if not isinstance(passphrase, str) or len(passphrase) < 8:
        raise FormInvalid("passphrase", "choose a passphrase of at least 8 characters")
    return LinkForm(talks=text_field(data, "talks"), passphrase=passphrase)


def parse_revoke_device(body: bytes) -> RevokeDeviceForm:
    """A device revocation request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "device"))
    return RevokeDeviceForm(talks=text_field(data, "talks"), device=text_field(data, "device"))


def parse_grant(body: bytes) -> GrantForm:
    """A grant request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "member", "level", "expires"))
    return GrantForm(
        talks=text_field(data, "talks"),
        member=text_field(data, "member"),
        level=_level(data, "level"),
        expires=_expires(data, "expires"),
    )


def parse_revoke(body: bytes) -> RevokeForm:
    """A revocation request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "member"))
    return RevokeForm(talks=text_field(data, "talks"), member=text_field(data, "member"))


def _level(data: dict[str, Any], name: str) -> Level:
    value = data.get(name)
    try:
        return Level.parse(value if isinstance(value, str) else "")
    except ValueError:
        allowed = ", ".join(level.label for level in Level)
        raise FormInvalid(name, f"choose a mandate level ({allowed})") from None


def _expires(data: dict[str, Any], name: str) -> datetime | None:
    """No expiry, a date (the mandate holds through that day, UTC), or an instant with its
    offset; never a time without one, which the device would have to guess."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FormInvalid(name, "must be a string")
    try:
        if len(value) == len("YYYY-MM-DD"):
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1), time(), UTC)
        at = datetime.fromisoformat(value)
    except ValueError:
        raise FormInvalid(name, "give a date (YYYY-MM-DD) or an ISO 8601 time") from None
    if at.tzinfo is None:
        raise FormInvalid(name, "give the time's offset from UTC")
    return at.astimezone(UTC).replace(microsecond=0)


# --- acting ----------------------------------------------------------------------------------


def grant(session: DeviceSession, form: GrantForm) -> dict[str, Any]:
    """Grant the mandate as this device's member; the engine's error if it may not."""
    grant_id = f"g-{secrets.token_hex(4)}"
    with session.sync.lock:
        profile = session.profile
        profile.act(
            profile.participant(form.talks),
            ev.Grant,
            grant=grant_id,
            member=form.member,
            level=form.level,
            expires=form.expires,
        )
    session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {
        "talks": form.talks,
        "grant": grant_id,
        "member": form.member,
        "level": form.level.label,
        "expires": None if form.expires is None else form.expires.isoformat(),
    }


def revoke(session: DeviceSession, form: RevokeForm) -> dict[str, Any]:
    """Revoke the member's mandates as this device's member; the engine's error if it may not."""
    with session.sync.lock:
        profile = session.profile
        profile.act(profile.participant(form.talks), ev.Revoke, member=form.member)
    session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {"talks": form.talks, "member": form.member}


def add_member(session: DeviceSession, form: MemberForm) -> dict[str, Any]:
    """An invite for a new member of this device's party; its device adds the member and grants
    the level when it next syncs after the newcomer joined."""
    with session.sync.lock:
        issued = session.profile.invite_member(
            form.talks, form.member, level=form.level, name=form.name
        )
    return {
        "talks": form.talks,
        "member": form.member,
        "level": form.level.label,
        "invite": issued.encode(),
    }


def link(session: DeviceSession, form: LinkForm) -> dict[str, Any]:
    """A sealed link for another device of this device's member."""
    with session.sync.lock:
        sealed = session.profile.link_device(form.talks, form.passphrase)
    return {"talks": form.talks, "link": sealed}


def revoke_device(session: DeviceSession, form: RevokeDeviceForm) -> dict[str, Any]:
    """Revoke a device in the talks; the engine's error if this device's member may not."""
    with session.sync.lock:
        revoked = session.profile.revoke_device(form.talks, form.device)
    session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {"talks": form.talks, "revoked": revoked}


# --- what the page shows ---------------------------------------------------------------------


def mandates_json(session: DeviceSession, alias: str | None = None) -> dict[str, Any]:
    """Every talks of the device (or only ``alias``: 404 ``talks.unknown`` if it has none)."""
    now = datetime.now(UTC)
    with session.sync.lock:
        profile = session.profile
        aliases = sorted(profile.talks) if alias is None else [alias]
        return {
            "levels": [level.label for level in Level],
            "talks": [
                talks_mandates(profile, name, profile.participant(name), now) for name in aliases
            ],
        }


def talks_mandates(
    profile: Profile, alias: str, participant: Participant, now: datetime
) -> dict[str, Any]:
    """One talks' parties, members, mandates and devices as this device knows them at ``now``."""
    view = participant.view
    me = participant.me
    rooted = me in view.parties
    party = me if rooted else (view.members[me].party if me in view.members else None)
    held = Level.SIGN if rooted else engine.standing(view, me, now).level
    intro = participant.introduction
    own_root = intro is not None and intro.root
    devices = [
        {
            **d,
            # Its own member's devices, or (as its party's root) its party's members' devices.
            "revocable": d["member"] is not None
            and not d["revoked"]
            and (d["member"] == me or (own_root and d["party"] == party)),
        }
        for d in participant.devices_json()
    ]
    return {
        "alias": alias,
        "title": profile.titles.get(alias, ""),
        "title_names": profile.title_names.get(alias, NO_NAMES).to_json(),
        "me": me,
        "party": party,
        "root": rooted,
        "level": None if held is None else held.label,
        "grantable": [] if held is None else [level.label for level in Level if level <= held],
        "can_add_members": own_root,
        "can_link_devices": intro is not None and intro.member is not None,
        "parties": [
            {
                "id": p.id,
                "name": p.name or p.id,
                "names": p.names.to_json(),
                "role": p.role.value,
                "mine": p.id == party,
                "root_devices": [d for d in devices if d["party"] == p.id and d["member"] is None],
                "members": [
                    _member(view, m, now, devices)
                    for m in sorted(view.members.values(), key=lambda m: m.id)
                    if m.party == p.id
                ],
            }
            for p in sorted(view.parties.values(), key=lambda p: p.id)
        ],
    }


def _member(
    view: engine.Talks, member: engine.Member, now: datetime, devices: list[dict[str, Any]]
) -> dict[str, Any]:
    standing = engine.standing(view, member.id, now)
    grants = sorted(
        (g for g in view.grants.values() if g.member == member.id), key=lambda g: (g.at, g.id)
    )
    return {
        "id": member.id,
        "name": member.name,
        "names": member.names.to_json(),
        "level": None if standing.level is None else standing.level.label,
        "lapse": None if standing.lapse is None else standing.lapse.value,
        "grants": [
            {
                "id": g.id,
                "level": g.level.label,
                "grantor": g.grantor,  # None: the party's root authority
                "at": g.at.isoformat(),
                "expires": None if g.expires is None else g.expires.isoformat(),
                "revoked_at": None if g.revoked_at is None else g.revoked_at.isoformat(),
            }
            for g in grants
        ],
        "devices": [d for d in devices if d["member"] == member.id],
    }
