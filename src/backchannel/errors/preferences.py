"""The engine's refusals of private preferences: the agenda to score and each party's scores."""

from __future__ import annotations

from backchannel.errors.rules import RuleViolation


class ScoresMalformed(RuleViolation):
    """An agenda or a party's scores do not parse, or break the scoring rules (points that do
    not sum to 100, an unknown issue or option, a value out of range)."""

    code = "prefs.malformed"
    status = 400


class ScoresNotOwn(RuleViolation):
    """Scores submitted for another party than the submitting member's, or by the mediator."""

    code = "prefs.not_own"
    status = 403


class AgendaNotMediator(RuleViolation):
    """An agenda set by someone other than the mediator's party (or in talks without one)."""

    code = "prefs.not_mediator"
    status = 403


class ScoresStale(RuleViolation):
    """Scores for an agenda version that is not the current one (or before any agenda)."""

    code = "prefs.stale"
