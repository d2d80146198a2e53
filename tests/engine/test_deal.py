"""Deals: both sides' accepted deals intersect in the plain matcher's match, settled alike."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.engine import escrow as ex
from backchannel.engine.deal import Deal, agree, deals, outcome
from backchannel.errors import DealsTooMany, DisclosureDiffers, TermUnscaled

PARTIES = ("a", "b")
ACTIONS = [f"{p}.act{i}" for p in PARTIES for i in range(2)]
SCALE = {"action": "a.act0", "term": "pct", "min": 0, "max": 100, "step": 10}


def conditions(depth: int = 2) -> st.SearchStrategy[object]:
    leaf = st.sampled_from(ACTIONS)
    if depth == 0:
        return leaf
    return leaf | st.builds(
        lambda kind, parts: {kind: parts},
        st.sampled_from(["all", "any"]),
        st.lists(conditions(depth - 1), min_size=1, max_size=3),
    )


@st.composite
def escrows(draw: st.DrawFn, terms: bool = False) -> ex.Escrow:
    """A random two-party escrow; with ``terms``, one offered and one demanded range on a.act0."""
    commitments = []
    for i in range(draw(st.integers(1, 5))):
        party = draw(st.sampled_from(PARTIES))
        own = [a for a in ACTIONS if a.startswith(party)]
        entry: dict[str, object] = {
            "id": f"c{i}",
            "party": party,
            "gives": draw(st.lists(st.sampled_from(own), unique=True, min_size=1, max_size=2)),
            "description": f"CANARY{i}",
        }
        if draw(st.booleans()):
            entry["requires"] = draw(conditions())
        entry["not_before"] = draw(st.lists(st.sampled_from(ACTIONS), unique=True, max_size=2))
        commitments.append(entry)
    document: dict[str, object] = {
        "parties": list(PARTIES),
        "actions": [{"id": a, "by": a.split(".")[0]} for a in ACTIONS],
        "commitments": commitments,
    }
    if terms:
        # One giver of a.act0 offering a grid-aligned range, against b.act0 from the one b
        # commitment demanding a range: nothing else gives either (see the bypass test below).
        for entry in commitments:
            entry["gives"] = [g for g in entry["gives"] if g.endswith("act1")] or [
                f"{entry['party']}.act1"
            ]
        low = draw(st.integers(0, 10)) * 10
        commitments.append(
            {
                "id": "giver",
                "party": "a",
                "gives": ["a.act0"],
                "requires": "b.act0",
                "terms": [{"action": "a.act0", "term": "pct", "offer": {"min": low, "max": 100}}],
            }
        )
        demand_low = draw(st.integers(0, 10)) * 10
        commitments.append(
            {
                "id": "demander",
                "party": "b",
                "gives": ["b.act0"],
                "requires": "a.act0",
                "terms": [
                    {
                        "action": "a.act0",
                        "term": "pct",
                        "demand": {"min": demand_low, "max": demand_low + 20},
                    }
                ],
            }
        )
        document["scales"] = [SCALE]
    return ex.parse(document)


def both(escrow: ex.Escrow) -> tuple[set[str], list[object], list[object]]:
    """The ids both sides take from the intersection, and each side's settlements."""
    accepted = {p: deals(escrow, p, q) for p, q in (PARTIES, PARTIES[::-1])}
    common = accepted["a"] & accepted["b"]
    seen = {p: outcome(escrow, p, q, common) for p, q in (PARTIES, PARTIES[::-1])}
    ids = {c.id for o in seen.values() for c in o.commitments}
    return ids, list(seen["a"].settlements), list(seen["b"].settlements)


@settings(max_examples=150, deadline=None)
@given(escrows())
def test_the_intersection_is_the_plain_match(escrow: ex.Escrow) -> None:
    """Without terms, what both sides take from the intersection is exactly ``match``."""
    ids, _, _ = both(escrow)
    assert ids == {c.id for c in ex.match(escrow)}


@settings(max_examples=100, deadline=None)
@given(escrows(terms=True))
def test_terms_settle_at_the_midpoint_of_the_overlap(escrow: ex.Escrow) -> None:
    """With grid-aligned bounded ranges the match and the settled value are the plain ones."""
    ids, mine, theirs = both(escrow)
    plain = ex.match(escrow)
    assert ids == {c.id for c in plain}
    assert mine == theirs
    expected = [s["value"] for s in ex.settlements(escrow, plain)]
    assert [s.value for s in mine] == expected  # type: ignore[attr-defined]


@settings(max_examples=50, deadline=None)
@given(escrows(terms=True))
def test_descriptors_name_no_sealed_text(escrow: ex.Escrow) -> None:
    """A descriptor names actions and grid values only: no commitment id or description."""
    for deal in deals(escrow, "a", "b") | deals(escrow, "b", "a"):
        raw = deal.descriptor("talks-1", "session-1")
        assert b"CANARY" not in raw and b"giver" not in raw and b"demander" not in raw
        assert json.loads(raw)["talks"] == "talks-1"


def reciprocal(offer: tuple[float, float], demand: tuple[float, float]) -> ex.Escrow:
    return ex.parse(
        {
            "parties": ["a", "b"],
            "actions": [{"id": "a.act0", "by": "a"}, {"id": "b.act0", "by": "b"}],
            "scales": [SCALE],
            "commitments": [
                {
                    "id": "ca",
                    "party": "a",
                    "gives": ["a.act0"],
                    "requires": "b.act0",
                    "terms": [
                        {
                            "action": "a.act0",
                            "term": "pct",
                            "offer": dict(zip(("min", "max"), offer, strict=True)),
                        }
                    ],
                },
                {
                    "id": "cb",
                    "party": "b",
                    "gives": ["b.act0"],
                    "requires": "a.act0",
                    "terms": [
                        {
                            "action": "a.act0",
                            "term": "pct",
                            "demand": dict(zip(("min", "max"), demand, strict=True)),
                        }
                    ],
                },
            ],
        }
    )


def test_an_unconditional_giver_bypasses_a_range() -> None:
    """Where a side gives the same actions without the term's condition, the range binds nothing.

    The plain matcher also matches the demanding commitment and settles within its range; here
    the side accepts every value (its unconditional commitment covers them all), so the overlap
    is the other's whole offer and the demanding commitment stays sealed unless the midpoint
    lies in its range. docs/escrow.md states the difference.
    """
    escrow = reciprocal((0, 100), (0, 20))
    free = ex.Commitment("free", "b", ("b.act0",))
    escrow = ex.Escrow(
        escrow.parties, None, escrow.actions, (*escrow.commitments, free), escrow.scales
    )
    common = deals(escrow, "a", "b") & deals(escrow, "b", "a")
    mine = outcome(escrow, "b", "a", common)
    assert [c.id for c in mine.commitments] == ["free"] and mine.settlements[0].value == 50
    assert {c.id for c in ex.match(escrow)} == {"ca", "cb", "free"}


def test_ranges_that_do_not_overlap_match_nothing() -> None:
    """Disjoint ranges give an empty intersection: neither side takes anything from it."""
    escrow = reciprocal((0, 30), (50, 100))
    common = deals(escrow, "a", "b") & deals(escrow, "b", "a")
    assert common == frozenset()
    assert outcome(escrow, "a", "b", common).deal is None


def test_overlap_is_seen_at_the_grid() -> None:
    """Offer 40–100 against demand 20–70: the overlap 40–70 settles at 55."""
    escrow = reciprocal((40, 100), (20, 70))
    common = deals(escrow, "a", "b") & deals(escrow, "b", "a")
    assert {d.values[0][2] for d in common} == {4, 5, 6, 7}
    (settled,) = outcome(escrow, "a", "b", common).settlements
    assert (settled.low, settled.high, settled.value) == (40, 70, 55)


def test_both_sides_derive_the_same_descriptor() -> None:
    """The deal sorts the parties, so each side's encoding of one exchange is the same bytes."""
    deal = Deal(("a", "b"), (("a.act0",), ("b.act0",)), (("a.act0", "pct", 5),))
    escrow = reciprocal((40, 100), (20, 70))
    assert deal in deals(escrow, "a", "b") and deal in deals(escrow, "b", "a")
    assert deal.descriptor("t", "s") != deal.descriptor("t", "s2") != deal.descriptor("t2", "s")


def test_a_term_without_a_scale_is_refused() -> None:
    """Direct matching cannot bucket a range with no public scale."""
    escrow = reciprocal((40, 100), (20, 70))
    unscaled = ex.Escrow(escrow.parties, None, escrow.actions, escrow.commitments)
    with pytest.raises(TermUnscaled) as caught:
        deals(unscaled, "a", "b")
    assert caught.value.code == "direct.term_unscaled"


def test_too_many_actions_are_refused() -> None:
    """Deals grow as 2^actions: past the cap the expansion stops with a clear error."""
    actions = [{"id": f"b.x{i}", "by": "b"} for i in range(13)] + [{"id": "a.y", "by": "a"}]
    escrow = ex.parse(
        {
            "parties": ["a", "b"],
            "actions": actions,
            "commitments": [{"id": "c", "party": "a", "gives": ["a.y"], "requires": "b.x0"}],
        }
    )
    with pytest.raises(DealsTooMany) as caught:
        deals(escrow, "a", "b")
    assert caught.value.code == "direct.too_many_deals"


def test_a_disclosure_must_be_the_matched_deal() -> None:
    """The other side's disclosed commitments must give its part of the deal, supported by it."""
    escrow = reciprocal((40, 100), (20, 70))
    common = deals(escrow, "a", "b") & deals(escrow, "b", "a")
    mine = outcome(escrow, "a", "b", common)
    theirs = outcome(escrow, "b", "a", common)
    stages = agree(escrow, mine, theirs.commitments)
    assert [s.actions for s in stages] == [("a.act0",), ("b.act0",)]
    with pytest.raises(DisclosureDiffers) as caught:
        agree(escrow, mine, ())
    assert caught.value.code == "direct.disclosure_differs"
    with pytest.raises(DisclosureDiffers):
        agree(escrow, mine, mine.commitments)
    forged = ex.Commitment("cb", "b", ("b.act0",), ex.Need("a.act1"))
    with pytest.raises(DisclosureDiffers):
        agree(escrow, mine, (forged,))
