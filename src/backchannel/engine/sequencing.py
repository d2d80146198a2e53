"""Sequencing plans and sealed views of a match.

**Plan.** The matched commitments' actions are ordered by their ``not_before`` waits: an action is
done only after the actions its commitment waits on. Actions that wait on each other in a cycle (a
strongly connected component of that graph) can only happen together: they form one
*simultaneous* stage, executed under the verification of the actions' named guarantor, or of the
mediator when none is named. Stages are in topological order, ties broken by action id.

**Views.** A match is shown to the mediator or to one party, and unmatched commitments stay sealed:

- the mediator sees the matched commitments, how many stayed sealed per party, the actions
  required that nobody offers (``unmet``, without naming whose commitment requires them), and the
  deadlock explanation;
- a party sees the matched commitments, its own commitments (matched or not), and only counts for
  the others. Its ``unmet`` lists only the actions *its own* sealed commitments require that the
  matched set does not give: "nobody offers" would tell it whether another party has a sealed
  offer. No deadlock explanation reaches a party view: it describes others' sealed commitments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backchannel.engine.escrow import (
    AllOf,
    AnyOf,
    Commitment,
    Condition,
    Escrow,
    Need,
    match,
    offers,
    settlements,
)
from backchannel.errors import EscrowInvalid


@dataclass(frozen=True, slots=True)
class Stage:
    """Actions done together; ``simultaneous`` when they wait on each other."""

    actions: tuple[str, ...]
    simultaneous: bool
    verified_by: str | None


def plan(escrow: Escrow, matched: Sequence[Commitment]) -> list[Stage]:
    """The ordered stages in which the matched commitments' actions can be carried out."""
    actions = sorted({a for c in matched for a in c.gives})
    waits: dict[str, set[str]] = {a: set() for a in actions}
    for commitment in matched:
        for action in commitment.gives:
            waits[action].update(b for b in commitment.not_before if b in waits)
    stages: list[Stage] = []
    for component in _components_in_order(actions, waits):
        cyclic = len(component) > 1 or component[0] in waits[component[0]]
        guarantors = {escrow.actions[a].guarantor for a in component} - {None}
        if cyclic:
            verified = guarantors.pop() if len(guarantors) == 1 else escrow.mediator
        else:
            verified = escrow.actions[component[0]].guarantor
        stages.append(Stage(tuple(component), cyclic, verified))
    return stages


def _components_in_order(nodes: list[str], waits: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of "a waits on b", earliest first (Tarjan, then Kahn)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        # Recursion depth is bounded by the number of actions in one escrow, which is small.
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for before in sorted(waits[node]):
            if before not in index:
                visit(before)
                low[node] = min(low[node], low[before])
            elif before in on_stack:
                low[node] = min(low[node], index[before])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            components.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    owner = {a: i for i, comp in enumerate(components) for a in comp}
    depends = {
        i: {owner[b] for a in comp for b in waits[a] if owner[b] != i}
        for i, comp in enumerate(components)
    }
    ordered: list[list[str]] = []
    done: set[int] = set()
    while len(done) < len(components):
        ready = [i for i in depends if i not in done and depends[i] <= done]
        first = min(ready, key=lambda i: components[i][0])
        done.add(first)
        ordered.append(components[first])
    return ordered


def required_actions(condition: Condition | None) -> set[str]:
    """Every action a condition mentions."""
    match condition:
        case None:
            return set()
        case Need(action):
            return {action}
        case AllOf(parts) | AnyOf(parts):
            return set().union(*(required_actions(p) for p in parts))
    raise TypeError(condition)  # pragma: no cover


def _needed(commitment: Commitment) -> set[str]:
    return required_actions(commitment.requires) | set(commitment.not_before)


def deadlock(escrow: Escrow, unmatched: Sequence[Commitment]) -> str | None:
    """Explain what unmatched commitments wait for that nobody offers, and what would break it."""
    offered = {a for c in escrow.commitments for a in c.gives}
    lines: list[str] = []
    suggestions: list[str] = []
    for commitment in unmatched:
        missing = sorted(_needed(commitment) - offered)
        if not missing:
            continue
        waits = ", ".join(missing)
        if commitment.gives:
            first = " (and not before)" if set(missing) & set(commitment.not_before) else ""
            lines.append(
                f"{commitment.party} gives {', '.join(commitment.gives)} only if {waits}{first}"
            )
        else:
            lines.append(f"{commitment.party} requires {waits} first and offers nothing in return")
        for action in missing:
            if not commitment.gives:
                continue
            verifier = escrow.actions[action].guarantor or escrow.mediator or "a guarantor"
            suggestions.append(
                f"a simultaneous stage under {verifier}'s verification would break this deadlock "
                f"if {escrow.actions[action].by} offered {action} conditional on "
                f"{' and '.join(commitment.gives)}"
            )
    if not lines:
        return None
    text = "No match: " + "; ".join(lines) + "."
    if len({c.party for c in unmatched if _needed(c) - offered}) > 1:
        text += " Each side's step waits on the other's."
    if suggestions:
        text += " Suggestion: " + "; ".join(dict.fromkeys(suggestions)) + "."
    return text


def check_viewer(escrow: Escrow, viewer: str | None, field: str) -> None:
    """:class:`EscrowInvalid` naming ``field`` unless ``viewer`` is None or one of the parties."""
    parties = {c.party for c in escrow.commitments} | set(escrow.parties)
    parties |= {a.by for a in escrow.actions.values()}  # a party may be named only by its actions
    if viewer is not None and viewer not in parties:
        raise EscrowInvalid(field, f"{viewer!r} is not a party of this escrow")


def view(escrow: Escrow, viewer: str | None = None) -> dict[str, Any]:
    """The match as ``viewer`` may see it: the mediator's view when None, else one party's."""
    matched = match(escrow)
    matched_ids = {c.id for c in matched}
    unmatched = [c for c in escrow.commitments if c.id not in matched_ids]
    given = offers(escrow, matched)
    everyone_offers = {a for c in escrow.commitments for a in c.gives}
    sealed = {p: sum(c.party == p for c in unmatched) for p in _parties(escrow)}
    unmet: dict[str, list[str]] = {}
    if viewer is None:
        for commitment in unmatched:
            missing = _needed(commitment) - everyone_offers
            if missing:
                unmet.setdefault(commitment.party, [])
                unmet[commitment.party] = sorted(set(unmet[commitment.party]) | missing)
        shown: Iterable[Commitment] = matched
        explanation = deadlock(escrow, unmatched)
    else:
        for commitment in unmatched:
            if commitment.party == viewer:
                missing = _needed(commitment) - set(given)
                unmet[viewer] = sorted(set(unmet.get(viewer, [])) | missing)
        shown = [c for c in escrow.commitments if c.id in matched_ids or c.party == viewer]
        explanation = None
    return {
        "view": viewer or "mediator",
        "matched": [c.id for c in matched],
        "plan": [
            {
                "actions": list(s.actions),
                "simultaneous": s.simultaneous,
                "verified_by": s.verified_by,
            }
            for s in plan(escrow, matched)
        ],
        "sealed": sealed,
        "unmet": unmet,
        "deadlock": explanation,
        "settlements": settlements(escrow, matched),
        "commitments": [_commitment_json(c, c.id in matched_ids) for c in shown],
        "actions": {
            a: {"by": escrow.actions[a].by, "description": escrow.actions[a].description}
            for a in sorted(given)
        },
    }


def _parties(escrow: Escrow) -> list[str]:
    parties = list(escrow.parties) or sorted({c.party for c in escrow.commitments})
    return [p for p in parties if p != escrow.mediator] if escrow.mediator else parties


def _commitment_json(commitment: Commitment, matched: bool) -> dict[str, Any]:
    return {
        "id": commitment.id,
        "party": commitment.party,
        "matched": matched,
        "gives": list(commitment.gives),
        "requires": _condition_json(commitment.requires),
        "not_before": list(commitment.not_before),
        "description": commitment.description,
    }


def _condition_json(condition: Condition | None) -> Any:
    match condition:
        case None:
            return None
        case Need(action):
            return action
        case AllOf(parts):
            return {"all": [_condition_json(p) for p in parts]}
        case AnyOf(parts):
            return {"any": [_condition_json(p) for p in parts]}
    raise TypeError(condition)  # pragma: no cover
