"""The Escrow page's API: the talks' own escrow, as this device may show it and act on it.

    GET  /api/escrow[?talks=…]   per talks: this device's party's deposits in full (the
                                 mediator's: every deposit), every other party's open deposits
                                 as counts, the matches announced to it
                                 (:func:`deposits.escrow_json`)
    POST /api/escrow/deposit     {talks, text}: deposit a pasted commitment (the file format,
                                 one commitment and the actions it names; its id is the deposit's)
    POST /api/escrow/compose     {talks, id, description?, gives, requires, requires_by, mode,
                                 not_before, term?}: deposit a commitment made from the form
    POST /api/escrow/amend       {talks, deposit, text}: its next version
    POST /api/escrow/withdraw    {talks, deposit}
    POST /api/escrow/match       {talks, match?}: the mediator's device matches and announces;
                                 ``matched: false`` with the matcher's explanation is a result

Every act is the CLI's ``escrow`` command (:mod:`client.deposits`) through :meth:`Profile.act`,
so the device's own engine judges it first and a refusal is its code (``escrow.malformed``,
``escrow.not_own``, ``escrow.not_mediator``…), with nothing sent. Nothing here decides what a
party may see: the view is the client module's, and the device holds no other party's unmatched
commitment to begin with.

In ``gives`` and ``requires`` each line is one action: its id, then (after a space) what it is.
The given actions are the device's party's; the required ones are ``requires_by``'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from starlette.routing import Route

from backchannel.client import deposits
from backchannel.client.deposits import Composed, NewAction
from backchannel.engine.names import NO_NAMES
from backchannel.errors import FormInvalid
from backchannel.ui.api import MAX_BODY, form_action, talks_view
from backchannel.ui.feed import Notice
from backchannel.ui.forms import MAX_TEXT, json_object, text_field
from backchannel.ui.session import DeviceSession

#: The longest id a page may give a deposit or a match.
MAX_ID = 64


def routes(session: DeviceSession) -> list[Route]:
    """The page's routes over ``session``."""
    return [
        talks_view("/api/escrow", lambda alias: escrow_page_json(session, alias)),
        form_action("/api/escrow/deposit", parse_deposit, lambda f: deposit(session, f)),
        form_action("/api/escrow/compose", parse_compose, lambda f: compose(session, f)),
        form_action("/api/escrow/amend", parse_amend, lambda f: amend(session, f)),
        form_action("/api/escrow/withdraw", parse_withdraw, lambda f: withdraw(session, f)),
        form_action("/api/escrow/match", parse_match, lambda f: match(session, f)),
    ]


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DepositForm:
    """Deposit (or, with ``deposit``, amend that deposit to) the commitment ``text``."""

    talks: str
    text: str
    deposit: str = ""


@dataclass(frozen=True, slots=True)
class ComposeForm:
    """Deposit the commitment the form composes."""

    talks: str
    commitment: Composed


@dataclass(frozen=True, slots=True)
class WithdrawForm:
    """Withdraw this party's deposit ``deposit``."""

    talks: str
    deposit: str


@dataclass(frozen=True, slots=True)
class MatchForm:
    """Match the open deposits (announced as ``match``, or a fresh id)."""

    talks: str
    match: str = ""


def parse_deposit(body: bytes) -> DepositForm:
    """A pasted deposit; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "text"))
    return DepositForm(talks=text_field(data, "talks"), text=_commitment(data))


def parse_amend(body: bytes) -> DepositForm:
    """An amendment; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "deposit", "text"))
    return DepositForm(
        talks=text_field(data, "talks"),
        text=_commitment(data),
        deposit=text_field(data, "deposit", limit=MAX_ID),
    )


def parse_withdraw(body: bytes) -> WithdrawForm:
    """A withdrawal; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "deposit"))
    return WithdrawForm(
        talks=text_field(data, "talks"), deposit=text_field(data, "deposit", limit=MAX_ID)
    )


def parse_match(body: bytes) -> MatchForm:
    """A match request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "match"))
    return MatchForm(
        talks=text_field(data, "talks"),
        match=text_field(data, "match", required=False, limit=MAX_ID),
    )


COMPOSE_FIELDS = (
    "talks",
    "id",
    "description",
    "gives",
    "requires",
    "requires_by",
    "mode",
    "not_before",
    "term",
)


def parse_compose(body: bytes) -> ComposeForm:
    """A composed commitment (its party is filled in when it is deposited: this device's);
    :class:`FormInvalid` names the first bad field. The engine checks the commitment."""
    data = json_object(body, COMPOSE_FIELDS)
    by = text_field(data, "requires_by", required=False, limit=MAX_ID)
    requires = _actions(data, "requires", by)
    if requires and not by:
        raise FormInvalid("requires_by", "name the party whose actions are required")
    mode = data.get("mode") or "all"
    if mode not in ("all", "any"):
        raise FormInvalid("mode", "choose all or any")
    not_before = data.get("not_before", False)
    if not isinstance(not_before, bool):
        raise FormInvalid("not_before", "must be true or false")
    commitment = Composed(
        id=text_field(data, "id", limit=MAX_ID),
        party="",
        gives=_actions(data, "gives", ""),
        requires=requires,
        any_of=mode == "any",
        not_before=not_before,
        description=text_field(data, "description", required=False, limit=MAX_TEXT),
        term=_term(data.get("term")),
    )
    return ComposeForm(talks=text_field(data, "talks"), commitment=commitment)


def _commitment(data: dict[str, Any]) -> str:
    return text_field(data, "text", limit=MAX_BODY)


def _actions(data: dict[str, Any], name: str, by: str) -> tuple[NewAction, ...]:
    """One action per non-empty line: its id, then what it is."""
    found = []
    for line in text_field(data, name, required=False, limit=MAX_TEXT).splitlines():
        if line.strip():
            action, _, words = line.strip().partition(" ")
            found.append(NewAction(action, by, words.strip()))
    return tuple(found)


def _term(raw: Any) -> dict[str, Any]:
    """The form's one numeric term, in the file format, or none."""
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"action", "term", "kind", "min", "max"}:
        raise FormInvalid("term", "give action, term, kind, min and max")
    kind = raw.get("kind")
    if kind not in ("offer", "demand"):
        raise FormInvalid("term", "its kind is offer or demand")
    span: dict[str, float] = {}
    for end in ("min", "max"):
        value = raw.get(end)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise FormInvalid("term", f"its {end} must be a number")
        span[end] = value
    action, term = raw.get("action"), raw.get("term")
    if not isinstance(action, str) or not action or not isinstance(term, str) or not term:
        raise FormInvalid("term", "name its action and the term")
    return {"action": action, "term": term, kind: span}


# --- acting ----------------------------------------------------------------------------------


def deposit(session: DeviceSession, form: DepositForm) -> dict[str, Any]:
    """Deposit the pasted commitment, under its own id."""
    deposit_id = deposits.identify(form.text)
    with session.sync.lock:
        profile = session.profile
        held = deposits.deposit(profile, profile.participant(form.talks), deposit_id, form.text)
    return _done(session, form.talks, held.id, held.status.value, held.version)


def compose(session: DeviceSession, form: ComposeForm) -> dict[str, Any]:
    """Deposit the composed commitment as this device's party's."""
    with session.sync.lock:
        profile = session.profile
        participant = profile.participant(form.talks)
        party = deposits.party_of(participant.view, participant.me) or ""
        given = tuple(replace(a, by=party) for a in form.commitment.gives)
        commitment = replace(form.commitment, party=party, gives=given)
        text = deposits.compose(commitment)
        held = deposits.deposit(profile, participant, commitment.id, text)
    return _done(session, form.talks, held.id, held.status.value, held.version)


def amend(session: DeviceSession, form: DepositForm) -> dict[str, Any]:
    """Amend this party's open deposit to the pasted commitment."""
    with session.sync.lock:
        profile = session.profile
        participant = profile.participant(form.talks)
        held = deposits.amend(profile, participant, form.deposit, form.text)
    return _done(session, form.talks, held.id, held.status.value, held.version)


def withdraw(session: DeviceSession, form: WithdrawForm) -> dict[str, Any]:
    """Withdraw this party's open deposit."""
    with session.sync.lock:
        profile = session.profile
        held = deposits.withdraw(profile, profile.participant(form.talks), form.deposit)
    return _done(session, form.talks, held.id, held.status.value, held.version)


def match(session: DeviceSession, form: MatchForm) -> dict[str, Any]:
    """The mediator's device matches; what it found, matched or not."""
    with session.sync.lock:
        profile = session.profile
        result = deposits.match(profile, profile.participant(form.talks), form.match or None)
    if result["matched"]:
        session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {"talks": form.talks, **result}


def _done(
    session: DeviceSession, talks: str, deposit_id: str, status: str, version: int
) -> dict[str, Any]:
    session.feed.publish(Notice("changed", {"talks": [talks]}))
    return {"talks": talks, "deposit": deposit_id, "status": status, "version": version}


# --- what the page shows ---------------------------------------------------------------------


def escrow_page_json(session: DeviceSession, alias: str | None = None) -> dict[str, Any]:
    """Every talks of the device (or only ``alias``: 404 ``talks.unknown`` if it has none)."""
    with session.sync.lock:
        profile = session.profile
        aliases = sorted(profile.talks) if alias is None else [alias]
        shown = []
        for name in aliases:
            participant = profile.participant(name)
            shown.append(
                {
                    "alias": name,
                    "title": profile.titles.get(name, ""),
                    "title_names": profile.title_names.get(name, NO_NAMES).to_json(),
                    **deposits.escrow_json(participant.view, participant.me),
                }
            )
        return {"talks": shown}
