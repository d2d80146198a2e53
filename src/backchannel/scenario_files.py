"""Scenario steps whose content is read from a file beside the scenario, and filled in at their
place: a deposit's commitment (an escrow file), the agenda and a party's scores (a problem file
of ``backchannel analyze``), and a match as the mediator's device computes it.

One problem file serves both ways: ``backchannel analyze FILE`` over it, and a scenario setting
its issues as the agenda and submitting each party's entry as that party's scores
(:func:`engine.scores.from_problem`), so the file mode and the talks give the same analysis.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from backchannel import engine
from backchannel.engine import checks, scores
from backchannel.engine import events as ev
from backchannel.engine.deposit import commitment_text, completed
from backchannel.errors import ScoresMalformed, UnknownEntity


def read_beside(scenario: str, file: str, what: str) -> Any:
    """The JSON document ``file`` (relative to the scenario's folder); ValueError saying why."""
    path = Path(scenario).parent / file
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {what} file {file!r}: {exc}") from None


def commitment(scenario: str, file: str, deposit: str) -> str:
    """The deposit's commitment, from the escrow file ``file``."""
    document = read_beside(scenario, file, "escrow")
    text = commitment_text(document, deposit) if isinstance(document, dict) else None
    if text is None:
        raise ValueError(f"{file} holds no commitment {deposit!r}")
    return text


def agenda(scenario: str, file: str) -> str:
    """The agenda a problem file's issues make (each issue's id, name and options)."""
    document = read_beside(scenario, file, "problem")
    issues = document.get("issues") if isinstance(document, dict) else None
    if not isinstance(issues, list):
        raise ValueError(f"{file} lists no issues")
    kept = [
        {k: v for k, v in i.items() if k in {"id", "name", "options"}}
        for i in issues
        if isinstance(i, dict)
    ]
    return scores.dumps({"issues": kept})


def settled(talks: engine.Talks, event: ev.Event, problem: Any) -> ev.Event:
    """``event`` as the acting device would send it at its place in ``talks``: a match as the
    mediator's matcher finds it; a submission with the actor's party's entry of ``problem`` and
    (``version`` 0) the current agenda version."""
    if isinstance(event, ev.AnnounceMatch):
        return completed(talks, event)
    if isinstance(event, ev.SubmitScores) and problem is not None:
        version = event.version or (1 if talks.agenda is None else talks.agenda.version)
        party = event.actor
        with contextlib.suppress(UnknownEntity):  # an unknown actor is refused when applied
            party = checks.actor_party(talks, event.actor)
        try:
            text = scores.dumps(scores.from_problem(problem, party))
        except ScoresMalformed as exc:
            text = json.dumps({"party": party, "error": exc.message})  # refused when applied
        return replace(event, version=version, scores=text)
    return event


def problem_of(scenario: str, entry: Mapping[str, Any]) -> Any:
    """The problem file a ``submit_scores`` step names (``from``), decoded."""
    return read_beside(scenario, str(entry.get("from", "")), "problem")
