"""Replaying a scenario through the engine into a transcript: what happened, what was refused.

A step *behaved as written* when it was accepted and expected nothing, or was refused with exactly
the code in its ``expect_error``. The transcript's JSON shape is the contract of
``backchannel simulate --json`` (see ``docs/scenarios.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine import preferences, text
from backchannel.errors import RuleViolation
from backchannel.scenario import Scenario, Step


@dataclass(frozen=True, slots=True)
class Outcome:
    """One step's result: the sequence number it got, or the code it was refused with."""

    step: Step
    seq: int | None
    code: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """Whether the engine accepted the step."""
        return self.code is None

    @property
    def as_written(self) -> bool:
        """Whether the step did what the scenario says it should."""
        return self.code == self.step.expect_error


@dataclass(frozen=True, slots=True)
class Transcript:
    """A whole replay: the final talks and every step's outcome."""

    scenario: Scenario
    talks: engine.Talks
    outcomes: tuple[Outcome, ...]

    @property
    def as_written(self) -> bool:
        """Whether every step behaved as the scenario says."""
        return all(o.as_written for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        """The ``simulate --json`` object."""
        return {
            "talks": _talks_json(self.scenario, self.talks),
            "events": [_event_json(o) for o in self.outcomes],
            "rejections": [
                {
                    "step": o.step.index + 1,
                    "line": o.step.line,
                    "code": o.code,
                    "message": o.message,
                    "expected": o.as_written,
                }
                for o in self.outcomes
                if not o.ok
            ],
            "messages": [message_json(m) for m in self.talks.messages.values()],
            "text": text_json(self.talks),
            "visibility": engine.visibility(self.talks),
            "initiator": _initiator_json(engine.initiator(self.talks)),
            "outcome": self._outcome_json(),
        }

    def _outcome_json(self) -> dict[str, Any]:
        unexpected = [
            {
                "step": o.step.index + 1,
                "line": o.step.line,
                "expected": o.step.expect_error,
                "got": o.code,
            }
            for o in self.outcomes
            if not o.as_written
        ]
        return {
            "as_written": not unexpected,
            "steps": len(self.outcomes),
            "accepted": sum(o.ok for o in self.outcomes),
            "rejected": sum(not o.ok for o in self.outcomes),
            "unexpected": unexpected,
            "messages": len(self.talks.messages),
            "relays": sum(m.relay is not None for m in self.talks.messages.values()),
            "accepted_ad_ref": sorted(
                {f"{c.party}:{c.proposal}" for c in self.talks.consents if not c.signed}
            ),
            "signed": sorted({f"{c.party}:{c.proposal}" for c in self.talks.consents if c.signed}),
            "confirmed": sorted({f"{c.party}:{c.proposal}" for c in self.talks.confirmations}),
            "articles": {a.id: text.status(self.talks, a).value for a in text.articles(self.talks)},
            "escrow": {
                "sealed": self.talks.sealed_counts(),
                "deposits": {d.id: d.status.value for d in self.talks.deposits.values()},
                "matches": {
                    m.id: {
                        "deposits": list(m.deposits),
                        "settled": json.loads(m.settled),
                        "plan": json.loads(m.plan),
                    }
                    for m in self.talks.matches.values()
                },
            },
            "preferences": {
                "agenda": None if self.talks.agenda is None else self.talks.agenda.version,
                "submitted": preferences.submitted(self.talks),
            },
            "summary": self.scenario.outcome,
        }


def replay(scenario: Scenario) -> Transcript:
    """Apply every step of ``scenario`` to its talks in order; refused steps change nothing."""
    talks = scenario.talks
    outcomes: list[Outcome] = []
    for step in scenario.steps:
        try:
            talks = engine.apply(talks, step.event)
        except RuleViolation as exc:
            outcomes.append(Outcome(step=step, seq=None, code=exc.code, message=exc.message))
        else:
            outcomes.append(Outcome(step=step, seq=talks.last.seq if talks.last else 0))
    return Transcript(scenario=scenario, talks=talks, outcomes=tuple(outcomes))


def describe(event: ev.Event) -> str:
    """A one-line summary of what an event does, for transcripts."""
    match event:
        case ev.Send() | ev.Propose():
            return f"{event.message} in {event.room} [{event.label.value}]"
        case ev.Relay():
            return f"{event.source} → {event.room} ({event.mode.value}) as {event.message}"
        case ev.Accept() | ev.Sign() | ev.Confirm():
            return event.proposal
        case ev.Grant():
            return f"{event.level.label} to {event.member}"
        case ev.Revoke():
            return f"mandate of {event.member}"
        case ev.AddDevice():
            return f"{event.new_device} for {event.member}"
        case ev.RevokeDevice():
            return event.target
        case ev.Join() | ev.Leave():
            return f"{event.member} ↔ {event.room}"
        case ev.SetRetention():
            return f"documents kept {event.days} days"
        case ev.RequestContact():
            via = f" via {event.via}" if event.via else " directly"
            return f"{event.to_party}{via}"
        case ev.DraftArticle():
            return f"article {event.article}" + (f" ({event.title})" if event.title else "")
        case ev.AgreeArticle() | ev.InitialArticle() | ev.SignArticle():
            return f"article {event.article}, version {event.version}"
        case ev.Deposit() | ev.Amend() | ev.Withdraw() | ev.DepositNotice():
            return f"deposit {event.deposit}"
        case ev.AnnounceMatch() | ev.MatchNotice():
            return f"match {event.match}"
        case ev.DirectMatch():
            return f"direct match {event.session} with {event.other}"
        case ev.SetAgenda():
            return "the agenda to score"
        case ev.SubmitScores() | ev.ScoresNotice():
            return f"scores of agenda version {event.version}"
    return ""


def text_of(event: ev.Event) -> str:
    """The words an event carries, if any."""
    if isinstance(event, ev.Send | ev.Propose | ev.Relay | ev.RequestContact | ev.DraftArticle):
        return event.text
    return ""


def _event_json(outcome: Outcome) -> dict[str, Any]:
    event = outcome.step.event
    return {
        "step": outcome.step.index + 1,
        "seq": outcome.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action.value,
        "ok": outcome.ok,
        "code": outcome.code,
        "expected_error": outcome.step.expect_error,
    }


def message_json(message: engine.Message) -> dict[str, Any]:
    """A message as every ``--json`` output prints it."""
    return {
        "id": message.id,
        "room": message.room,
        "author": message.author,
        "at": message.at.isoformat(),
        "label": message.label.value,
        "lang": message.lang,
        "text": message.text,
        "proposal": message.proposal,
        "relay": message.relay.value if message.relay else None,
        "source": message.source,
        "relayed_by": message.relayed_by,
    }


def text_json(talks: engine.Talks) -> list[dict[str, Any]]:
    """The negotiating text as every ``--json`` output prints it: articles in order, each with
    its status, its current words split into agreed language and brackets, each party's stage on
    that version, and every earlier version."""
    out = []
    for article in text.articles(talks):
        current = article.current
        out.append(
            {
                "id": article.id,
                "number": article.position,
                "title": article.title,
                "status": text.status(talks, article).value,
                "version": current.number,
                "text": current.text,
                "lang": current.lang,
                "segments": [
                    s
                    if isinstance(s, str)
                    else {"alternatives": [a.strip() for a in s.alternatives]}
                    for s in text.parse(current.text)
                ],
                "brackets": text.brackets(current.text),
                "parties": {
                    party: _value(text.party_stage(article, party))
                    for party in text.consenting_parties(talks)
                },
                "versions": [
                    {
                        "version": v.number,
                        "author": v.author,
                        "at": v.at.isoformat(),
                        "lang": v.lang,
                        "text": v.text,
                    }
                    for v in article.versions
                ],
            }
        )
    return out


def _value(stage: engine.ArticleStatus | None) -> str | None:
    return None if stage is None else stage.value


def _initiator_json(found: engine.Initiator | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "party": found.party,
        "member": found.member,
        "at": found.at.isoformat(),
        "via": found.via,
        "request": found.request,
        "to_party": found.to_party,
    }


def _talks_json(scenario: Scenario, talks: engine.Talks) -> dict[str, Any]:
    end = talks.last_at
    return {
        "id": talks.id,
        "title": talks.title,
        "title_names": scenario.title_names.to_json(),
        "file": scenario.path,
        "parties": [
            {"id": p.id, "name": p.name, "names": p.names.to_json(), "role": p.role.value}
            for p in talks.parties.values()
        ],
        "members": [
            {
                "id": m.id,
                "party": m.party,
                "name": m.name,
                "names": m.names.to_json(),
                "mandate": _level_at(talks, m.id, end),
            }
            for m in talks.members.values()
        ],
        "rooms": [
            {"id": r.id, "kind": r.kind.value, "party": r.party, "members": sorted(r.members)}
            for r in talks.rooms.values()
        ],
    }


def _level_at(talks: engine.Talks, member: str, at: Any) -> str | None:
    if at is None:
        return None
    level = engine.standing(talks, member, at).level
    return level.label if level is not None else None
