"""Private preferences on a device: what the CLI (``backchannel prefs``) and the web app's
Analysis page share — the documents a device sends, and what it may show of what it holds.

What a device shows is what its own view holds (:mod:`backchannel.engine.preferences`): every
device the agenda and who scored it; a party's device its own party's scores and utilities;
the mediator's device the analysis over every party's scores. Nothing here reads another
party's scores on a device that does not hold them: the engine never gave them to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backchannel import engine
from backchannel.client.participant import Participant
from backchannel.engine import preferences, scores
from backchannel.engine.scores import dumps
from backchannel.errors import AgendaNotMediator, ProblemInvalid, ScoresMalformed, ScoresStale


def own_party(participant: Participant) -> str:
    """The party this device acts for (its member's, or the root's own)."""
    view = participant.view
    if participant.me in view.parties:
        return participant.me
    return view.members[participant.me].party


def is_mediator(participant: Participant) -> bool:
    """Whether this device acts for the mediator's party."""
    mediator = participant.view.mediator
    return mediator is not None and own_party(participant) == mediator.id


def agenda_document(data: Any) -> str:
    """The agenda a decoded file gives: an agenda (``issues``) or a problem file's issues."""
    if not isinstance(data, dict) or not isinstance(data.get("issues"), list):
        raise ScoresMalformed('an agenda file holds "issues": a list of {"id", "options"}')
    kept = [
        {k: v for k, v in i.items() if k in {"id", "name", "options"}} if isinstance(i, dict) else i
        for i in data["issues"]
    ]
    return dumps({"issues": kept})


def scores_document(
    view: engine.Talks,
    party: str,
    data: Any = None,
    *,
    points: Mapping[str, int] | None = None,
    values: Mapping[str, Mapping[str, int]] | None = None,
    reservation: int | None = None,
    note: str | None = None,
) -> str:
    """``party``'s scores as a submission carries them: from a decoded file (a scores document,
    or a problem file whose entry for ``party`` is taken), then each of ``points``, ``values``,
    ``reservation`` and ``note`` given laid over it. Checked by :func:`scores.parse_scores`
    against the current agenda (the engine checks it again, on every device that holds it)."""
    if view.agenda is None:
        raise ScoresStale("there is no agenda to score yet: the mediator sets it first")
    if data is None:
        document: dict[str, Any] = {"party": party, "points": {}, "values": {}}
    elif isinstance(data, dict) and "parties" in data:
        document = scores.from_problem(data, party)
    elif isinstance(data, dict):
        document = {"party": party, **data}
    else:
        raise ScoresMalformed("a scores file must be a JSON object")
    if points:
        document["points"] = {**document.get("points", {}), **points}
    if values:
        merged = {i: dict(v) for i, v in (document.get("values") or {}).items()}
        for issue, per in values.items():
            merged.setdefault(issue, {}).update(per)
        document["values"] = merged
    if reservation is not None:
        document["reservation"] = reservation
    if note is not None:
        document["note"] = note
    text = dumps(document)
    scores.parse_scores(text, view.agenda)
    return text


def agenda_json(view: engine.Talks) -> dict[str, Any] | None:
    """The current agenda as every ``--json`` output and the web app show it."""
    agenda = view.agenda
    if agenda is None:
        return None
    return {
        "version": agenda.version,
        "issues": [{"id": i.id, "name": i.name, "options": list(i.options)} for i in agenda.issues],
    }


def show_json(participant: Participant, chosen: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What this device may show: the agenda, who scored it, its own party's scores (if any),
    its best package and, for ``chosen``, its own utility. Never another party's scores."""
    view = participant.view
    party = own_party(participant)
    held = view.submissions.get(party)
    mine = None
    if held is not None and held.scores is not None and view.agenda is not None:
        mine = {
            **held.scores.to_json(),
            "version": held.version,
            "current": held.version == view.agenda.version,
            "at": held.at.isoformat(),
            "member": held.member,
            "count": held.count,
        }
    data: dict[str, Any] = {
        "party": party,
        "mediator": is_mediator(participant),
        "agenda": agenda_json(view),
        "submitted": preferences.submitted(view),
        "names": {p.id: p.name or p.id for p in view.parties.values()},
        "mine": mine,
        "best": _best(view, party),
    }
    if chosen is not None:
        data["package"] = preferences.package(view, chosen)
        data["utility"] = preferences.own_utility(view, party, chosen)
    return data


def _best(view: engine.Talks, party: str) -> dict[str, Any] | None:
    """The package this party's own scores rank highest, and its utility (from its own)."""
    held = view.submissions.get(party)
    agenda = view.agenda
    if held is None or held.scores is None or agenda is None or held.version != agenda.version:
        return None
    values = held.scores.values
    chosen = {i.id: max(i.options, key=values[i.id].__getitem__) for i in agenda.issues}
    return {"package": chosen, "utility": held.scores.utility(chosen)}


def analysis_json(participant: Participant) -> dict[str, Any]:
    """The mediator's analysis over the scores its device holds (:func:`preferences.analysis`),
    with who scored. :class:`AgendaNotMediator` on a party's device (it holds only its own
    scores), :class:`ProblemInvalid` before two parties scored the current agenda."""
    if not is_mediator(participant):
        raise AgendaNotMediator(
            "only the mediator's devices hold every party's scores: a party sees its own"
        )
    view = participant.view
    found = preferences.analysis(view)
    if found is None:
        version = None if view.agenda is None else view.agenda.version
        raise ProblemInvalid(
            "scores", f"fewer than two parties have scored the current agenda (version {version})"
        )
    return {
        **found,
        "agenda": agenda_json(view),
        "submitted": preferences.submitted(view),
        "names": {p.id: p.name or p.id for p in view.parties.values()},
    }


def named_package(participant: Participant, name: str) -> dict[str, str]:
    """``nash``, ``kalai-smorodinsky``, ``max-joint-gain`` or ``issue=option,…``, as a package
    of the current agenda (the named points from the mediator's analysis)."""
    key = name.strip().lower().replace("-", "_")
    if key in {"nash", "kalai_smorodinsky", "max_joint_gain", "egalitarian"}:
        point = analysis_json(participant)[key]
        if point is None:
            raise ProblemInvalid("package", f"there is no {name} package: no zone of agreement")
        return dict(point["package"])
    try:
        chosen = dict(part.split("=", 1) for part in name.split(",") if part.strip())
    except ValueError:
        raise ProblemInvalid("package", "give issue=option,issue=option or nash") from None
    return preferences.package(participant.view, {k.strip(): v.strip() for k, v in chosen.items()})
