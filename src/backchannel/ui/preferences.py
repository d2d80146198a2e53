"""The Analysis page's API over the talks: the agenda, my party's scores, the mediator's analysis.

    GET  /api/preferences[?talks=…]  per talks: what ``prefs show --json`` prints (the agenda,
                                     who scored it, my party's own scores and best package), and
                                     on the mediator's device the analysis of what it holds
                                     (``prefs analyze --json``, or null before two parties
                                     scored) and the rooms it may make an offer in
    POST /api/preferences/agenda     {talks, agenda: {issues: [...]}} (the mediator's party)
    POST /api/preferences/scores     {talks, points: {issue: n}, values: {issue: {option: v}},
                                     reservation?, note?}: my party's scores of the current agenda
    POST /api/preferences/offer      {talks, room, package: {issue: option}, label}: the package
                                     put to the parties as an offer in a room

The device acts as its member, exactly as ``backchannel prefs`` does (:mod:`client.preferences`
builds what both send and show). What a device answers is what its own engine view holds, so a
party's page never receives another party's scores: its device never had them. The engine
checks every act (the scoring rules, the mediator's agenda, a party's own scores) and refuses
with its rule's code; a refused act never leaves the device.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import Route

from backchannel.client import preferences as prefs
from backchannel.client.participant import Participant
from backchannel.engine import events as ev
from backchannel.engine import preferences
from backchannel.engine.names import NO_NAMES
from backchannel.engine.rules import Label
from backchannel.errors import FormInvalid, ProblemInvalid
from backchannel.ui.api import form_action, talks_view
from backchannel.ui.feed import Notice
from backchannel.ui.forms import MAX_TEXT, choice_field, json_object, text_field
from backchannel.ui.session import DeviceSession


def routes(session: DeviceSession) -> list[Route]:
    """The page's routes over ``session``."""
    return [
        talks_view("/api/preferences", lambda alias: preferences_json(session, alias)),
        form_action("/api/preferences/agenda", parse_agenda, lambda f: set_agenda(session, f)),
        form_action("/api/preferences/scores", parse_scores, lambda f: submit(session, f)),
        form_action("/api/preferences/offer", parse_offer, lambda f: offer(session, f)),
    ]


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgendaForm:
    """Set the agenda of ``talks``: the decoded agenda document."""

    talks: str
    agenda: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ScoresForm:
    """My party's scores of ``talks``' current agenda. Never in a ``repr``: scores are private."""

    talks: str
    points: dict[str, int] = field(repr=False)
    values: dict[str, dict[str, int]] = field(repr=False)
    reservation: int | None = field(default=None, repr=False)
    note: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class OfferForm:
    """Put ``package`` to the parties of ``talks`` as an offer in ``room`` under ``label``."""

    talks: str
    room: str
    package: dict[str, str]
    label: Label


def _mapping(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise FormInvalid(name, "must be an object")
    return value


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormInvalid(name, "must be a whole number")
    return value


def parse_agenda(body: bytes) -> AgendaForm:
    """An agenda request; its issues are checked by the engine (``prefs.malformed``)."""
    data = json_object(body, ("talks", "agenda"))
    return AgendaForm(talks=text_field(data, "talks"), agenda=_mapping(data, "agenda"))


def parse_scores(body: bytes) -> ScoresForm:
    """A scores request: numbers must be whole (the ranges and the total are the engine's);
    :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "points", "values", "reservation", "note"))
    points = {str(k): _whole(v, f"points.{k}") for k, v in _mapping(data, "points").items()}
    values: dict[str, dict[str, int]] = {}
    for issue, per in _mapping(data, "values").items():
        if not isinstance(per, dict):
            raise FormInvalid(f"values.{issue}", "must be an object: option → value")
        values[str(issue)] = {str(o): _whole(v, f"values.{issue}.{o}") for o, v in per.items()}
    reservation = data.get("reservation")
    note = data.get("note")
    return ScoresForm(
        talks=text_field(data, "talks"),
        points=points,
        values=values,
        reservation=None if reservation is None else _whole(reservation, "reservation"),
        note=None if note is None else text_field(data, "note", required=False, limit=MAX_TEXT),
    )


def parse_offer(body: bytes) -> OfferForm:
    """An offer request; the package is checked against the agenda when it is made."""
    data = json_object(body, ("talks", "room", "package", "label"))
    package = _mapping(data, "package")
    if not all(isinstance(v, str) for v in package.values()):
        raise FormInvalid("package", "must map each issue to one of its options")
    return OfferForm(
        talks=text_field(data, "talks"),
        room=text_field(data, "room", limit=64),
        package={str(k): v for k, v in package.items()},
        label=choice_field(data, "label", Label, "choose a carry label: none is chosen for you"),
    )


# --- acting ----------------------------------------------------------------------------------


def set_agenda(session: DeviceSession, form: AgendaForm) -> dict[str, Any]:
    """Set the agenda as this device's member; the engine's error if it may not."""
    with session.sync.lock:
        profile = session.profile
        participant = profile.participant(form.talks)
        profile.act(participant, ev.SetAgenda, agenda=prefs.agenda_document(form.agenda))
        agenda = prefs.agenda_json(participant.view)
    session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {"talks": form.talks, "agenda": agenda}


def submit(session: DeviceSession, form: ScoresForm) -> dict[str, Any]:
    """Submit my party's scores of the current agenda; the engine's error if malformed."""
    with session.sync.lock:
        profile = session.profile
        participant = profile.participant(form.talks)
        view = participant.view
        text = prefs.scores_document(
            view,
            prefs.own_party(participant),
            {"points": form.points, "values": form.values},
            reservation=form.reservation,
            note=form.note,
        )
        version = 1 if view.agenda is None else view.agenda.version
        profile.act(participant, ev.SubmitScores, version=version, scores=text)
        mine = prefs.show_json(participant)["mine"]
    session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {"talks": form.talks, "version": version, "mine": mine}


def offer(session: DeviceSession, form: OfferForm) -> dict[str, Any]:
    """Make the package an offer in the room, as ``prefs offer`` does."""
    with session.sync.lock:
        profile = session.profile
        participant = profile.participant(form.talks)
        text = preferences.offer_text(participant.view, form.package)
        message = f"m-{secrets.token_hex(6)}"
        profile.act(
            participant,
            ev.Propose,
            message=message,
            room=form.room,
            text=text,
            label=form.label,
            lang="en",
        )
    session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {"talks": form.talks, "proposal": message, "room": form.room, "text": text}


# --- what the page shows ---------------------------------------------------------------------


def preferences_json(session: DeviceSession, alias: str | None = None) -> dict[str, Any]:
    """Every talks of the device (or only ``alias``: 404 ``talks.unknown`` if it has none)."""
    with session.sync.lock:
        profile = session.profile
        aliases = sorted(profile.talks) if alias is None else [alias]
        return {
            "talks": [
                {
                    **talks_preferences(name, profile.participant(name)),
                    "title": profile.titles.get(name, ""),
                    "title_names": profile.title_names.get(name, NO_NAMES).to_json(),
                }
                for name in aliases
            ]
        }


def talks_preferences(alias: str, participant: Participant) -> dict[str, Any]:
    """One talks as this device may show it (see the module's header)."""
    data: dict[str, Any] = {"alias": alias, "me": participant.me, **prefs.show_json(participant)}
    # The page localises ``parties`` (id → name) with ``party_names`` (NAMES.localise).
    data["parties"] = dict(data["names"])
    data["party_names"] = {p.id: p.names.to_json() for p in participant.view.parties.values()}
    if not data["mediator"]:
        return data
    try:
        data["analysis"] = prefs.analysis_json(participant)
    except ProblemInvalid:
        data["analysis"] = None
    view = participant.view
    data["rooms"] = [
        {"id": r.id, "name": r.name or r.id, "names": r.names.to_json()}
        for r in view.rooms.values()
        if participant.me in r.members
    ]
    return data
