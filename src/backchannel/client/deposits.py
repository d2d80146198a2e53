"""The escrow of a talks as a device holds it and acts on it: one flow for the CLI and web app.

A party's device deposits, amends and withdraws its own party's commitments; the mediator's
device matches. Every act goes through :meth:`Profile.act`, so the device's own engine judges
it first (``engine/deposit.py``: a refusal raises its rule's error and nothing leaves the
device). This module only finds the commitment's text (one commitment of an escrow file, a
commitment JSON the user pasted, or one composed from a form: :func:`compose`) and words what
the device holds as :func:`escrow_json`.

What a view shows is what the device may show, never more: its own party's deposits in full;
every other party's open deposits as counts (``Talks.sealed_counts``); the matches it received,
with the commitments they revealed. Only the mediator's view lists every deposit, since its
devices hold every one. Another party's sealed commitment is not taken from the view even where
a device happens to hold it, so the rule is this module's and not only the audience's.

"No match" is a result of :func:`match`, not an error: the mediator's device says so with the
sequencing deadlock its matcher explains, and announces nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backchannel import engine
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.engine import deposit as rules
from backchannel.engine import events as ev
from backchannel.engine import sequencing
from backchannel.engine.rules import DepositStatus
from backchannel.engine.state import Deposited, Talks
from backchannel.errors import DepositMalformed, MatchDiffers


def from_file(text: str, commitment_id: str) -> str:
    """The commitment ``commitment_id`` of an escrow file's ``text``, with the actions it names,
    as a deposit carries it; :class:`DepositMalformed` if the file holds no such commitment."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DepositMalformed(f"the escrow file is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise DepositMalformed("the escrow file must be a JSON object (docs/escrow.md)")
    found = rules.commitment_text(document, commitment_id)
    if found is None:
        raise DepositMalformed(f"the escrow file holds no commitment {commitment_id!r}")
    return found


def identify(text: str) -> str:
    """The id of the one commitment a pasted deposit ``text`` holds (the deposit's id);
    :class:`DepositMalformed` when there is not exactly one. The engine checks the rest."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise DepositMalformed("the deposit is not JSON: paste one commitment") from None
    commitments = document.get("commitments") if isinstance(document, dict) else None
    if not isinstance(commitments, list) or len(commitments) != 1:
        raise DepositMalformed("a deposit holds exactly one commitment")
    (commitment,) = commitments
    found = commitment.get("id") if isinstance(commitment, dict) else None
    if not isinstance(found, str) or not found:
        raise DepositMalformed("the commitment needs an id: the deposit's")
    return found


@dataclass(frozen=True, slots=True)
class NewAction:
    """An action a composed commitment names: its id, the party that does it, its words."""

    id: str
    by: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Composed:
    """A commitment as the web app's form gives it: what ``party`` gives, on what condition
    (every or any of ``requires``), whether not before, and at most one numeric term."""

    id: str
    party: str
    gives: tuple[NewAction, ...] = ()
    requires: tuple[NewAction, ...] = ()
    any_of: bool = False
    not_before: bool = False
    description: str = ""
    term: Mapping[str, Any] = field(default_factory=dict)


def compose(form: Composed) -> str:
    """The deposit text of a composed commitment, in the escrow file format; the engine checks
    it as it checks any other (a term naming no action given or required is refused there)."""
    names = [a.id for a in form.requires]
    commitment: dict[str, Any] = {
        "id": form.id,
        "party": form.party,
        "gives": [a.id for a in form.gives],
    }
    if form.description:
        commitment["description"] = form.description
    if len(names) == 1:
        commitment["requires"] = names[0]
    elif names:
        commitment["requires"] = {"any" if form.any_of else "all": names}
    if form.not_before and names:
        commitment["not_before"] = names
    if form.term:
        commitment["terms"] = [dict(form.term)]
    actions = [
        {"id": a.id, "by": a.by, **({"description": a.description} if a.description else {})}
        for a in (*form.gives, *form.requires)
    ]
    return json.dumps({"actions": actions, "commitments": [commitment]}, ensure_ascii=False)


# --- acting ----------------------------------------------------------------------------------


def deposit(profile: Profile, participant: Participant, deposit_id: str, text: str) -> Deposited:
    """Deposit ``text`` (one commitment) as ``deposit_id`` for this device's party."""
    profile.act(participant, ev.Deposit, deposit=deposit_id, commitment=text)
    return participant.view.deposits[deposit_id]


def amend(profile: Profile, participant: Participant, deposit_id: str, text: str) -> Deposited:
    """Replace this party's open deposit ``deposit_id`` with ``text`` (its next version)."""
    profile.act(participant, ev.Amend, deposit=deposit_id, commitment=text)
    return participant.view.deposits[deposit_id]


def withdraw(profile: Profile, participant: Participant, deposit_id: str) -> Deposited:
    """Withdraw this party's open deposit ``deposit_id``."""
    profile.act(participant, ev.Withdraw, deposit=deposit_id)
    return participant.view.deposits[deposit_id]


def match(
    profile: Profile, participant: Participant, match_id: str | None = None
) -> dict[str, Any]:
    """The mediator's device matches the open deposits it holds and, if anything matches,
    announces the match as a signed act. ``{"matched": False, …}`` with the matcher's
    explanation when nothing does; the engine's refusal for any other device."""
    match_id = match_id or f"match-{secrets.token_hex(4)}"
    at = datetime.now(UTC).replace(microsecond=0)
    probe = ev.AnnounceMatch(
        at=at,
        actor=participant.me,
        device=participant.engine_device,
        match=match_id,
        deposits="[]",
        settled="[]",
        plan="[]",
        revealed="[]",
    )
    # The engine says whether this device's member may announce a match at all (the mediator's,
    # with the mandate, under a fresh id) before anything is computed; an announcement naming
    # no deposit is refused as such, which means the announcer may.
    with suppress(MatchDiffers):
        engine.apply(participant.tip(), probe)
    view = participant.view
    found = rules.announcement(view, match_id, at, participant.me, participant.engine_device)
    if found is None:
        held = rules.held_escrow(view)
        if held is None:
            raise MatchDiffers("this device does not hold every open deposit's commitment")
        explained = sequencing.view(held)
        return {
            "matched": False,
            "match": None,
            "sealed": view.sealed_counts(),
            "unmet": explained["unmet"],
            "deadlock": explained["deadlock"],
        }
    profile.act(
        participant,
        ev.AnnounceMatch,
        match=match_id,
        deposits=found.deposits,
        settled=found.settled,
        plan=found.plan,
        revealed=found.revealed,
    )
    after = participant.view
    return {
        "matched": True,
        "match": match_json(after, match_id),
        "sealed": after.sealed_counts(),
        "unmet": {},
        "deadlock": None,
    }


# --- what the device shows -------------------------------------------------------------------


def party_of(view: Talks, actor: str) -> str | None:
    """The party ``actor`` (a member, or a party's root) acts for, if this view knows it."""
    member = view.members.get(actor)
    if member is not None:
        return member.party
    return actor if actor in view.parties else None


def escrow_json(view: Talks, me: str) -> dict[str, Any]:
    """The escrow as a device whose view is ``view``, acting as ``me``, may show it (see the
    module's header): ``participant.view`` and ``participant.me``."""
    party = party_of(view, me)
    mediator = view.mediator
    mediating = mediator is not None and party == mediator.id
    shown = [d for d in view.deposits.values() if mediating or d.party == party]
    counts = view.sealed_counts()
    return {
        "me": me,
        "party": party,
        "mediator": None if mediator is None else mediator.id,
        "mediating": mediating,
        "parties": [
            {"id": p.id, "name": p.name or p.id, "names": p.names.to_json(), "role": p.role.value}
            for p in view.parties.values()
        ],
        "members": [
            {"id": m.id, "name": m.name or m.id, "names": m.names.to_json(), "party": m.party}
            for m in sorted(view.members.values(), key=lambda m: m.id)
        ],
        "deposits": [deposit_json(view, d) for d in shown],
        "sealed": {p: n for p, n in counts.items() if mediating or p != party},
        "matches": [match_json(view, m) for m in view.matches],
    }


def deposit_json(view: Talks, held: Deposited) -> dict[str, Any]:
    """One deposit this device shows in full: who made it and when, its status and version,
    and its commitment with the actions it names (as deposited)."""
    member = view.members.get(held.member)
    document = _document(held)
    return {
        "id": held.id,
        "party": held.party,
        "member": {
            "id": held.member,
            "name": held.member if member is None else member.name or member.id,
            "names": {} if member is None else member.names.to_json(),
        },
        "at": held.at.isoformat(),
        "status": held.status.value,
        "open": held.status is DepositStatus.OPEN,
        "version": held.version,
        "commitment": document.get("commitments", [None])[0],
        "actions": document.get("actions", []),
        "text": held.text,
    }


def match_json(view: Talks, match_id: str) -> dict[str, Any]:
    """A match this device received: the commitments it revealed, the settled terms and the
    plan, as the mediator announced them."""
    found = view.matches[match_id]
    revealed = [view.deposits[d] for d in found.deposits if d in view.deposits]
    return {
        "id": found.id,
        "at": found.at.isoformat(),
        "deposits": list(found.deposits),
        "commitments": [
            {"id": d.id, "party": d.party, **_document(d)} for d in revealed if not d.sealed
        ],
        "settled": json.loads(found.settled) if found.settled else [],
        "plan": json.loads(found.plan) if found.plan else [],
    }


def _document(held: Deposited) -> dict[str, Any]:
    """The deposit's text as JSON (empty where this view holds only its notice)."""
    if held.sealed or not held.text:
        return {}
    value = json.loads(held.text)
    return value if isinstance(value, dict) else {}
