"""A direct match in the record: the words both parties sign, and the rules every device applies.

Without a mediator, the two parties' devices run a private set intersection over their deals
(:mod:`.deal`, ``crypto/psi.py``, ``client/direct_session.py``) and disclose to each other only
their matched commitments. What they then agree is one canonical JSON text, :func:`words`: the
session id, both parties (sorted), both sides' matched commitments (each as a deposit carries it:
the commitment and the actions it names, sorted), the settled terms and the plan. Each party
signs it in a :class:`~.events.DirectMatch` act, which reaches the two parties' devices only; the
act's signature binds the host's talks id, so the words cannot be replayed into other talks.

The rules every device (and ``record verify`` with content) applies at the act's place:

- only in talks without a mediator (``direct.unavailable``), for the actor's party and another
  party of the talks;
- the words are well-formed and name this session and these two parties; every commitment is
  one of theirs, parses, and the set is self-supporting (the plain matcher matches all of it);
  the plan is the planner's over them; each settled overlap lies inside every range the
  commitments state for its term, and settles at its midpoint (``direct.outcome_differs``);
- a party signs a session once (``id.duplicate``), and the second party's words must be the
  first's, byte for byte (``direct.outcome_differs``): the match is then agreed.

The settled values' grid (the public scales) is not in the words, so a device checks the
overlap against the ranges, not its snapping to the grid; the signing devices checked that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from backchannel.engine import checks, escrow, sequencing
from backchannel.engine import events as ev
from backchannel.engine.checks import Checked
from backchannel.engine.state import DirectAgreement, Talks, evolve
from backchannel.errors import (
    DirectOutcomeDiffers,
    DirectUnavailable,
    DuplicateId,
    EscrowInvalid,
)

#: The fields of the words, exactly.
FIELDS = frozenset({"session", "parties", "commitments", "settled", "plan"})
#: The fields of one settled term.
SETTLED_FIELDS = frozenset({"action", "term", "value", "low", "high"})


def canonical(value: Any) -> str:
    """The one JSON text of ``value`` both sides derive (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def plan_json(stages: Sequence[sequencing.Stage]) -> list[dict[str, Any]]:
    """A plan as the words hold it."""
    return [
        {"actions": list(s.actions), "simultaneous": s.simultaneous, "verified_by": s.verified_by}
        for s in stages
    ]


def words(
    session: str,
    parties: Sequence[str],
    commitments: Sequence[str],
    settled: Sequence[Mapping[str, Any]],
    plan: Sequence[sequencing.Stage],
) -> str:
    """The words of a direct match, canonical: what each party's :class:`DirectMatch` signs."""
    return canonical(
        {
            "session": session,
            "parties": sorted(parties),
            "commitments": sorted(commitments),
            "settled": sorted((dict(s) for s in settled), key=lambda s: (s["action"], s["term"])),
            "plan": plan_json(plan),
        }
    )


def sign(talks: Talks, e: ev.DirectMatch, c: Checked) -> Talks:
    """A party signs a direct match's words (see the module's header)."""
    if talks.mediator is not None:
        raise DirectUnavailable("talks with a mediator match through its device, not directly")
    party = checks.actor_party(talks, e.actor)
    if e.other == party or e.other not in talks.parties:
        raise DirectUnavailable(f"{e.other!r} is not another party of these talks")
    if not e.session or len(e.session) > 64:
        raise DirectOutcomeDiffers("a direct match names a session id of 1 to 64 characters")
    parties = (min(party, e.other), max(party, e.other))
    if not c.sealed:
        check_words(e.outcome, e.session, parties)
    held = talks.direct.get(e.session)
    if held is None:
        held = DirectAgreement(e.session, parties, e.outcome, (), e.at)
    elif held.parties != parties:
        raise DirectOutcomeDiffers(f"session {e.session!r} is between other parties")
    elif party in held.signed:
        raise DuplicateId(f"{party} already signed the direct match of session {e.session!r}")
    elif held.outcome != e.outcome:
        raise DirectOutcomeDiffers(
            f"{party} signs other words than {held.signed[0]} signed for session {e.session!r}"
        )
    signed = replace(held, signed=(*held.signed, party))
    return evolve(talks, direct=checks.with_item(talks.direct, e.session, signed))


def check_words(text: str, session: str, parties: tuple[str, str]) -> escrow.Escrow:
    """The commitments of well-formed words for ``session`` between ``parties``, as one escrow;
    :class:`DirectOutcomeDiffers` naming what is wrong otherwise."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise DirectOutcomeDiffers("the direct match's words are not JSON") from None
    if not isinstance(data, dict) or set(data) != FIELDS:
        raise DirectOutcomeDiffers(f"the direct match's words hold exactly {sorted(FIELDS)}")
    if canonical(data) != text:
        raise DirectOutcomeDiffers("the direct match's words are not in their canonical form")
    if data["session"] != session or data["parties"] != list(parties):
        raise DirectOutcomeDiffers("the words name another session or other parties")
    joint = _commitments(data["commitments"], parties)
    if {c.id for c in escrow.match(joint)} != {c.id for c in joint.commitments}:
        raise DirectOutcomeDiffers("the commitments named do not support one another")
    if data["plan"] != plan_json(sequencing.plan(joint, joint.commitments)):
        raise DirectOutcomeDiffers("the plan is not the planner's over the commitments named")
    _check_settled(data["settled"], joint)
    return joint


def _commitments(texts: Any, parties: tuple[str, str]) -> escrow.Escrow:
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise DirectOutcomeDiffers("a direct match names one or more commitments, as text")
    actions: dict[str, escrow.Action] = {}
    found: list[escrow.Commitment] = []
    for text in texts:
        try:
            parsed = escrow.loads(text)
        except (EscrowInvalid, RecursionError) as exc:
            raise DirectOutcomeDiffers(f"a matched commitment does not parse: {exc}") from None
        if parsed.parties or parsed.scales or len(parsed.commitments) != 1:
            raise DirectOutcomeDiffers("each matched commitment is one, with its actions only")
        (commitment,) = parsed.commitments
        if commitment.party not in parties:
            raise DirectOutcomeDiffers(f"{commitment.id!r} is not one of the two parties'")
        if commitment.id in {c.id for c in found}:
            raise DirectOutcomeDiffers(f"{commitment.id!r} is named twice")
        for action in parsed.actions.values():
            actions.setdefault(action.id, action)
        found.append(commitment)
    return escrow.Escrow(parties, None, actions, tuple(found))


def _check_settled(settled: Any, joint: escrow.Escrow) -> None:
    if not isinstance(settled, list):
        raise DirectOutcomeDiffers("the settled terms are a list")
    for item in settled:
        if not isinstance(item, dict) or set(item) != SETTLED_FIELDS:
            raise DirectOutcomeDiffers(f"a settled term holds exactly {sorted(SETTLED_FIELDS)}")
        low, high, value = item["low"], item["high"], item["value"]
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (low, high)):
            raise DirectOutcomeDiffers("a settled overlap is two numbers")
        if not low <= high or value != (low + high) / 2:
            raise DirectOutcomeDiffers("a term settles at the midpoint of its overlap")
        ranges = [
            t
            for c in joint.commitments
            for t in c.terms
            if (t.action, t.term) == (item["action"], item["term"])
        ]
        if not ranges:
            raise DirectOutcomeDiffers(f"no matched commitment states {item['term']!r}")
        if any(not (t.low <= low and high <= t.high) for t in ranges):
            raise DirectOutcomeDiffers(f"{item['term']!r} settles outside a range stated for it")
