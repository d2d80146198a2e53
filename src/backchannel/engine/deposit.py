"""The escrow as acts in the talks: deposits, amendments, withdrawals, their notices and matches.

A deposit is one commitment in the escrow file format (:mod:`.escrow`), made by a member of the
depositing party. Its full act reaches only the mediator's devices and the depositing party's
(:mod:`.audience`); every other device applies a :class:`~.events.DepositNotice` at the same
place, so every device counts the same open deposits while only some hold their commitments.

The rules every device applies, whichever form it holds:

- a deposit's id is fresh among the deposits (every device knows every deposit's id);
- only the depositing party amends or withdraws it (``escrow.not_own``), and only while it is
  open (``escrow.stale``);
- a commitment that does not parse, holds more or less than one commitment, is another party's,
  or names parties not in the talks is refused (``escrow.malformed``);
- only a member of the mediator's party announces a match (``escrow.not_mediator``), naming
  known (``escrow.unknown``), open (``escrow.stale``) deposits; a device that holds every open
  deposit's commitment (the mediator's) also checks the match, settled terms and plan are what
  :func:`found` computes (``escrow.not_matching``). Other devices check what they can, over
  every matched deposit opened (the announcement's parties receive the deposits' signed acts
  with it: a match whose deposit this device holds only as a notice is ``escrow.not_matching``);
- a device of a party outside the match applies its :class:`~.events.MatchNotice` by the same
  rules of actor and deposits: they close, their commitments stay sealed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from backchannel.engine import checks, escrow, sequencing
from backchannel.engine import events as ev
from backchannel.engine.checks import Checked
from backchannel.engine.rules import DepositStatus
from backchannel.engine.state import Deposited, Match, Talks, evolve
from backchannel.errors import (
    DepositMalformed,
    DepositNotOwn,
    DepositStale,
    DepositUnknown,
    DuplicateId,
    EscrowInvalid,
    MatchDiffers,
    MatchNotMediator,
)


def read(talks: Talks, deposit: str, party: str, text: str) -> escrow.Escrow:
    """The one commitment ``text`` holds, checked as ``party``'s deposit ``deposit``."""
    try:
        parsed = escrow.loads(text)
    except EscrowInvalid as exc:
        raise DepositMalformed(f"the deposit's {exc.message}") from exc
    except RecursionError:
        raise DepositMalformed("the deposit's conditions nest too deeply") from None
    if parsed.parties or parsed.scales:
        raise DepositMalformed("a deposit holds actions and one commitment, not parties or scales")
    if len(parsed.commitments) != 1:
        raise DepositMalformed("a deposit holds exactly one commitment")
    (commitment,) = parsed.commitments
    if commitment.id != deposit:
        raise DepositMalformed(f"the commitment's id {commitment.id!r} is not {deposit!r}")
    if commitment.party != party:
        raise DepositMalformed(f"{party} may deposit its own commitments, not {commitment.party}'s")
    for action in parsed.actions.values():
        for named in (action.by, action.guarantor):
            if named is not None and named not in talks.parties:
                raise DepositMalformed(f"action {action.id!r} names {named!r}, not a party")
    return parsed


def _own(talks: Talks, deposit: str, party: str) -> Deposited:
    """The open deposit ``deposit`` of ``party``."""
    held = talks.deposits.get(deposit)
    if held is None:
        raise DepositUnknown(f"there is no deposit {deposit!r} in these talks")
    if held.party != party:
        raise DepositNotOwn(f"{deposit!r} is {held.party}'s deposit, not {party}'s")
    if held.status is not DepositStatus.OPEN:
        raise DepositStale(f"deposit {deposit!r} is {held.status.value}")
    return held


def _fresh(talks: Talks, deposit: str) -> None:
    if not deposit:
        raise DuplicateId("an id may not be empty")
    if deposit in talks.deposits:
        raise DuplicateId(f"the deposit id {deposit!r} is already in use")


def _put(talks: Talks, held: Deposited) -> Talks:
    return evolve(talks, deposits=checks.with_item(talks.deposits, held.id, held))


def deposit(talks: Talks, e: ev.Deposit | ev.Amend, c: Checked) -> Talks:
    """A deposit, or an amendment of one's own open deposit, with its commitment."""
    party = checks.actor_party(talks, e.actor)
    if talks.mediator is None:
        raise DepositMalformed("without a mediator, parties match directly (backchannel match)")
    if isinstance(e, ev.Amend):
        held = _own(talks, e.deposit, party)
        held = replace(held, version=held.version + 1)
    else:
        _fresh(talks, e.deposit)
        held = Deposited(id=e.deposit, party=party, member=e.actor, at=e.at)
    if c.sealed:
        return _put(talks, replace(held, commitment=None, actions=(), text=""))
    parsed = read(talks, e.deposit, party, e.commitment)
    if not parsed.commitments[0].live(c.at):
        raise DepositMalformed(f"the commitment expired before its place in the record ({c.at})")
    return _put(
        talks,
        replace(
            held,
            commitment=parsed.commitments[0],
            actions=tuple(parsed.actions.values()),
            text=e.commitment,
        ),
    )


def notice(talks: Talks, e: ev.DepositNotice, c: Checked) -> Talks:
    """A deposit or amendment sealed from this device: counted, never opened."""
    party = checks.actor_party(talks, e.actor)
    if talks.mediator is None:
        raise DepositMalformed("without a mediator, parties match directly (backchannel match)")
    if e.amended:
        held = _own(talks, e.deposit, party)
        sealed = replace(held, version=held.version + 1, commitment=None, actions=(), text="")
        return _put(talks, sealed)
    _fresh(talks, e.deposit)
    return _put(talks, Deposited(id=e.deposit, party=party, member=e.actor, at=e.at))


def withdraw(talks: Talks, e: ev.Withdraw, c: Checked) -> Talks:
    """The depositing party withdraws its open deposit."""
    held = _own(talks, e.deposit, checks.actor_party(talks, e.actor))
    return _put(talks, replace(held, status=DepositStatus.WITHDRAWN))


def held_escrow(talks: Talks, at: datetime | None = None) -> escrow.Escrow | None:
    """The open deposits (those not expired at the record's time ``at``) as one escrow, if this
    view holds every one's commitment (None else).

    An action two deposits declare is taken from the first in record order: each deposit was
    judged alone, by devices that may not see the others.
    """
    pool = [d for d in talks.deposits.values() if d.status is DepositStatus.OPEN]
    if any(d.commitment is None for d in pool):
        return None
    return _escrow(talks, [d for d in pool if d.commitment is None or d.commitment.live(at)])


def _escrow(talks: Talks, pool: list[Deposited]) -> escrow.Escrow:
    """``pool``'s commitments (each held) as one escrow, actions merged in record order."""
    mediator = talks.mediator
    actions: dict[str, escrow.Action] = {}
    commitments: list[escrow.Commitment] = []
    for held in pool:
        if held.commitment is None:
            continue  # sealed from this view: never in a pool it matches (see held_escrow)
        for action in held.actions:
            actions.setdefault(action.id, action)
        commitments.append(held.commitment)
    return escrow.Escrow(
        tuple(talks.parties), None if mediator is None else mediator.id, actions, tuple(commitments)
    )


def found(talks: Talks, at: datetime | None = None) -> dict[str, list[Any]] | None:
    """What the matcher finds over the open deposits live at ``at``: ``deposits``, ``revealed``,
    ``settled`` and ``plan`` as JSON values; None if this view does not hold every open one."""
    held = held_escrow(talks, at)
    if held is None:
        return None
    return _outcome(talks, held)


def _outcome(talks: Talks, held: escrow.Escrow) -> dict[str, list[Any]]:
    """What the matcher finds over ``held``."""
    matched = escrow.match(held)
    return {
        "deposits": [c.id for c in matched],
        "revealed": [talks.deposits[c.id].text for c in matched],
        "settled": escrow.settlements(held, matched),
        "plan": [
            {
                "actions": list(s.actions),
                "simultaneous": s.simultaneous,
                "verified_by": s.verified_by,
            }
            for s in sequencing.plan(held, matched)
        ],
    }


def announcement(
    talks: Talks, match_id: str, at: datetime, actor: str, device: str | None = None
) -> ev.AnnounceMatch | None:
    """The :class:`~.events.AnnounceMatch` this (mediator's) view finds at ``at``, or None if
    nothing matches or the view does not hold every open deposit."""
    result = found(talks, at)
    if result is None or not result["deposits"]:
        return None
    text = {key: json.dumps(value, sort_keys=True) for key, value in result.items()}
    return ev.AnnounceMatch(
        at=at,
        actor=actor,
        device=device,
        match=match_id,
        deposits=text["deposits"],
        settled=text["settled"],
        plan=text["plan"],
        revealed=text["revealed"],
    )


def _json_list(text: str, what: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise MatchDiffers(f"the announced {what} is not JSON") from None
    if not isinstance(value, list):
        raise MatchDiffers(f"the announced {what} must be a list")
    return value


def announce(talks: Talks, e: ev.AnnounceMatch, c: Checked) -> Talks:
    """The mediator announces a match over open deposits (see the module's header)."""
    _announcer(talks, e)
    announced = {
        "deposits": _json_list(e.deposits, "deposits"),
        "revealed": _json_list(e.revealed, "revealed commitments"),
        "settled": _json_list(e.settled, "settled terms"),
        "plan": _json_list(e.plan, "plan"),
    }
    ids = _distinct(announced["deposits"])
    texts = announced["revealed"]
    if len(texts) != len(ids) or not all(isinstance(t, str) for t in texts):
        raise MatchDiffers("a match reveals each matched deposit's commitment, in order")
    deposits = talks.deposits
    for deposit_id, text in zip(ids, texts, strict=True):
        held = _open(deposits, deposit_id)
        if c.sealed:
            continue
        if held.sealed:
            # The announcement travels with the openings of the deposits it matches
            # (client/fanout.openings): a device never takes the mediator's word for them.
            raise MatchDiffers(f"the match brings no opening of deposit {deposit_id!r}")
        if text != held.text:
            raise MatchDiffers(f"the match reveals another commitment than {deposit_id!r}")
        try:
            parsed = read(talks, deposit_id, held.party, text)
        except DepositMalformed as exc:
            raise MatchDiffers(f"the match reveals no valid {deposit_id!r}: {exc.message}") from exc
        if not parsed.commitments[0].live(c.at):
            raise DepositStale(f"deposit {deposit_id!r} expired before the match's place")
        revealed = replace(
            held,
            status=DepositStatus.MATCHED,
            commitment=parsed.commitments[0],
            actions=tuple(parsed.actions.values()),
            text=text,
        )
        deposits = checks.with_item(deposits, deposit_id, revealed)
    if not c.sealed:
        # Every device: the revealed commitments are self-supporting, and settle and sequence
        # as announced. The mediator's (every open deposit held): no larger set matches.
        matched = evolve(talks, deposits=deposits)
        pool = [d for d in matched.deposits.values() if d.id in ids]
        merged = _escrow(talks, pool)
        expected = _outcome(matched, merged)
        if _plain(expected) != announced or len(expected["deposits"]) != len(ids):
            raise MatchDiffers("the revealed commitments do not match as announced")
        everything = found(talks, c.at)
        if everything is not None and _plain(everything) != announced:
            raise MatchDiffers(
                "the announced match is not what the matcher finds over the deposits"
            )
    return _closed(
        talks,
        deposits,
        Match(id=e.match, deposits=tuple(ids), settled=e.settled, plan=e.plan, at=e.at),
    )


def match_notice(talks: Talks, e: ev.MatchNotice, c: Checked) -> Talks:
    """A match this device's party is outside of: the deposits it names close, sealed."""
    _announcer(talks, e)
    ids = _distinct(_json_list(e.deposits, "deposits"))
    for deposit_id in ids:
        _open(talks.deposits, deposit_id)
    return _closed(
        talks, talks.deposits, Match(id=e.match, deposits=tuple(ids), settled="", plan="", at=e.at)
    )


def _announcer(talks: Talks, e: ev.AnnounceMatch | ev.MatchNotice) -> None:
    """A match is the mediator's party's to announce, under a fresh id."""
    if not checks.for_mediator(talks, e.actor):
        raise MatchNotMediator("only a member of the mediator's party announces a match")
    if not e.match or e.match in talks.matches:
        raise DuplicateId(f"the match id {e.match!r} is empty or already in use")


def _distinct(ids: list[Any]) -> list[str]:
    """The announced deposit ids: one or more, each a string, none twice."""
    if not ids or not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
        raise MatchDiffers("a match names one or more distinct deposit ids")
    return ids


def _open(deposits: Mapping[str, Deposited], deposit_id: str) -> Deposited:
    """The open deposit a match names."""
    held = deposits.get(deposit_id)
    if held is None:
        raise DepositUnknown(f"there is no deposit {deposit_id!r} in these talks")
    if held.status is not DepositStatus.OPEN:
        raise DepositStale(f"deposit {deposit_id!r} is {held.status.value}")
    return held


def _closed(talks: Talks, deposits: Mapping[str, Deposited], match: Match) -> Talks:
    """``talks`` with ``deposits``, every deposit ``match`` names matched, and the match kept."""
    for deposit_id in match.deposits:
        closed = replace(deposits[deposit_id], status=DepositStatus.MATCHED)
        deposits = checks.with_item(deposits, deposit_id, closed)
    return evolve(
        talks, deposits=deposits, matches=checks.with_item(talks.matches, match.id, match)
    )


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` as JSON would give it back (tuples as lists, keys as strings)."""
    return dict(json.loads(json.dumps(dict(value))))


def commitment_text(document: Mapping[str, Any], commitment_id: str) -> str | None:
    """One commitment of an escrow document (already decoded JSON), with the actions it names,
    as a deposit carries it; None if the document holds no such commitment."""
    commitments = document.get("commitments")
    actions = document.get("actions")
    if not isinstance(commitments, list) or not isinstance(actions, list):
        return None
    chosen = next(
        (c for c in commitments if isinstance(c, dict) and c.get("id") == commitment_id), None
    )
    if chosen is None:
        return None
    named = _named(chosen.get("requires"))
    for key in ("gives", "not_before"):
        named.update(a for a in chosen.get(key, []) if isinstance(a, str))
    named.update(t.get("action") for t in chosen.get("terms", []) if isinstance(t, dict))
    kept = [a for a in actions if isinstance(a, dict) and a.get("id") in named]
    return json.dumps({"actions": kept, "commitments": [chosen]}, ensure_ascii=False)


def _named(condition: Any) -> set[Any]:
    """The action ids a condition names, however nested."""
    if isinstance(condition, str):
        return {condition}
    if isinstance(condition, dict):
        return set().union(*(_named(p) for parts in condition.values() for p in parts))
    return set()


def completed(talks: Talks, event: ev.AnnounceMatch) -> ev.AnnounceMatch:
    """``event`` with what this view's matcher finds filled in where it is left empty: the
    deposits (if none are named), the settled terms and the plan. A scenario names a match
    by its id, and the mediator's device computes the rest."""
    result = found(talks, event.at)
    if result is None:
        return event
    text = {key: json.dumps(value, sort_keys=True) for key, value in result.items()}
    return replace(
        event,
        deposits=event.deposits or text["deposits"],
        settled=event.settled or text["settled"],
        plan=event.plan or text["plan"],
        revealed=event.revealed or text["revealed"],
    )
