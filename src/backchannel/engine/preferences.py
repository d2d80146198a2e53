"""Private preferences as acts in the talks: the agenda, each party's scores, and their analysis.

The mediator's party sets the **agenda** (issues and options, :mod:`.scores`); a member of a
party submits its party's **scores** of it. A submission's full act reaches only the mediator's
devices and the submitting party's own (:mod:`.audience`); every other device applies a
:class:`~.events.ScoresNotice` at the same place, so every device knows who submitted for which
agenda version while only the mediator's holds every party's scores.

The rules every device applies, whichever form it holds:

- only a member (or the root) of the mediator's party sets the agenda (``prefs.not_mediator``;
  talks without a mediator have no agenda); it must parse (``prefs.malformed``). Each agenda is
  the next **version**: the mediator can add an issue or an option after scores came in, and the
  scores of an earlier version stay in the record but drop out of the analysis until their party
  scores the new one. (Refusing a new agenda once scores exist would freeze a mistake; silently
  re-reading old scores against new issues would analyse what nobody scored.)
- a submission names the current agenda version (``prefs.stale``), is its own party's and not
  the mediator's (``prefs.not_own``), and its scores follow the scoring rules: 100 whole points
  over the issues, a whole value from 0 to 100 for every option (``prefs.malformed``). A device
  holding only the notice checks what it can: the actor, the mandate and the version.
- a new submission replaces the party's earlier one (``count`` counts them).

The analysis (:func:`problem`, :func:`analysis`) runs on a view that holds the scores — the
mediator's — over the current version's submissions, with :mod:`.analysis`: the frontier, the
Nash and Kalai–Smorodinsky points, and for two parties Adjusted Winner over the issues' points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from backchannel.engine import analysis as an
from backchannel.engine import checks
from backchannel.engine import events as ev
from backchannel.engine.checks import Checked
from backchannel.engine.scores import TOTAL_POINTS, Agenda, parse_agenda, parse_scores
from backchannel.engine.state import Submission, Talks, evolve
from backchannel.errors import (
    AgendaNotMediator,
    ProblemInvalid,
    ScoresNotOwn,
    ScoresStale,
)


def set_agenda(talks: Talks, e: ev.SetAgenda, c: Checked) -> Talks:
    """The mediator's party sets the agenda's next version."""
    if not checks.for_mediator(talks, e.actor):
        raise AgendaNotMediator("only the mediator's party sets the agenda the parties score")
    version = 1 if talks.agenda is None else talks.agenda.version + 1
    agenda = Agenda((), version) if c.sealed else parse_agenda(e.agenda, version)
    return evolve(talks, agenda=agenda)


def _current(talks: Talks, actor: str, version: int) -> tuple[str, Agenda]:
    """The actor's party and the agenda, once the party may score ``version`` of it."""
    party = checks.actor_party(talks, actor)
    mediator = talks.mediator
    if mediator is not None and party == mediator.id:
        raise ScoresNotOwn("the mediator scores nothing: it analyses the parties' scores")
    agenda = talks.agenda
    if agenda is None:
        raise ScoresStale("there is no agenda to score yet: the mediator sets it first")
    if version != agenda.version:
        raise ScoresStale(f"the agenda is at version {agenda.version}, not {version}")
    return party, agenda


def _put(talks: Talks, held: Submission) -> Talks:
    earlier = talks.submissions.get(held.party)
    if earlier is not None:
        held = replace(held, count=earlier.count + 1)
    return evolve(talks, submissions=checks.with_item(talks.submissions, held.party, held))


def submit(talks: Talks, e: ev.SubmitScores, c: Checked) -> Talks:
    """A party's scores of the current agenda, replacing its earlier submission."""
    party, agenda = _current(talks, e.actor, e.version)
    held = Submission(party=party, member=e.actor, at=e.at, version=e.version)
    if c.sealed:
        return _put(talks, held)
    scores = parse_scores(e.scores, agenda)
    if scores.party != party:
        raise ScoresNotOwn(f"{party} submits its own scores, not {scores.party}'s")
    return _put(talks, replace(held, scores=scores, text=e.scores))


def notice(talks: Talks, e: ev.ScoresNotice, c: Checked) -> Talks:
    """A submission sealed from this device: who and when, never the scores."""
    party, _ = _current(talks, e.actor, e.version)
    return _put(talks, Submission(party=party, member=e.actor, at=e.at, version=e.version))


# --- what a view holds -----------------------------------------------------------------------


def submitted(talks: Talks) -> dict[str, bool]:
    """Party id (every party but the mediator) → whether it scored the current agenda: what
    every device may know."""
    mediator = talks.mediator
    version = None if talks.agenda is None else talks.agenda.version
    return {
        p: (s := talks.submissions.get(p)) is not None and s.version == version
        for p in talks.parties
        if mediator is None or p != mediator.id
    }


def problem(talks: Talks) -> an.Problem | None:
    """The analysis problem of the current agenda over the scores this view holds for it: each
    party's weight for an issue is its points / 100 and its values are as scored, so a
    package's utility is ``Σ points × value / 100``. None before two parties scored it here."""
    agenda = talks.agenda
    if agenda is None:
        return None
    held = [
        s.scores
        for s in talks.submissions.values()
        if s.scores is not None and s.version == agenda.version
    ]
    if len(held) < 2:
        return None
    order = list(talks.parties)
    held.sort(key=lambda s: order.index(s.party))
    issues = tuple(an.Issue(i.id, i.options) for i in agenda.issues)
    parties = tuple(
        an.Preferences(
            party=s.party,
            weights={i: p / TOTAL_POINTS for i, p in s.points.items()},
            values={i: {o: float(v) for o, v in per.items()} for i, per in s.values.items()},
            reservation=float(s.reservation),
            points={i: float(p) for i, p in s.points.items()},
        )
        for s in held
    )
    return an.Problem(issues, parties)


def analysis(talks: Talks) -> dict[str, Any] | None:
    """The analysis of what this view holds (``analyze --json``'s object, and ``adjusted_winner``
    for two parties, else None); None if :func:`problem` is."""
    found = problem(talks)
    if found is None:
        return None
    frontier = an.pareto_frontier(found)
    result = an.report(found, frontier, an.solve(found, frontier))
    result["adjusted_winner"] = (
        an.division_json(an.adjusted_winner(found)) if len(found.parties) == 2 else None
    )
    return result


def package(talks: Talks, chosen: Mapping[str, Any]) -> dict[str, str]:
    """``chosen`` as a package of the current agenda: one option for every issue, in order.
    :class:`ProblemInvalid` naming the issue otherwise."""
    agenda = talks.agenda
    if agenda is None:
        raise ProblemInvalid("package", "there is no agenda yet")
    for key in chosen:
        if agenda.issue(str(key)) is None:
            raise ProblemInvalid(f"package.{key}", "is not an issue of the agenda")
    result: dict[str, str] = {}
    for issue in agenda.issues:
        option = chosen.get(issue.id)
        if option not in issue.options:
            raise ProblemInvalid(f"package.{issue.id}", f"needs one of {', '.join(issue.options)}")
        result[issue.id] = str(option)
    return result


def own_utility(talks: Talks, party: str, chosen: Mapping[str, str]) -> float | None:
    """``party``'s utility (0–100) for a package of the current agenda, from the scores this
    view holds for it (a party's device: its own); None if it holds none for this version."""
    held = talks.submissions.get(party)
    agenda = talks.agenda
    if held is None or held.scores is None or agenda is None or held.version != agenda.version:
        return None
    return held.scores.utility(package(talks, chosen))


def offer_text(talks: Talks, chosen: Mapping[str, str]) -> str:
    """The words of an offer putting a package to the parties: every issue and its option."""
    agenda = talks.agenda
    if agenda is None:
        raise ProblemInvalid("package", "there is no agenda yet")
    checked = package(talks, chosen)
    parts = [f"{issue.name or issue.id}: {checked[issue.id]}" for issue in agenda.issues]
    return f"Proposed package (agenda version {agenda.version}) — " + "; ".join(parts) + "."
