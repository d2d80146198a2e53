"""The escrow: the match is the largest self-supporting set, plans keep waits, views stay sealed."""

from __future__ import annotations

import itertools
import json
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backchannel.engine import escrow as ex
from backchannel.engine.sequencing import plan, view
from backchannel.errors import EscrowInvalid
from tests.test_scenario import ROOT

MUSCAT = ROOT / "scenarios" / "muscat-2024.escrow.json"
RECIPROCAL = ROOT / "scenarios" / "muscat-2024-reciprocal.escrow.json"
PARTIES = ["a", "b", "c"]
ACTIONS = [f"{p}.act{i}" for p in PARTIES for i in range(2)]


def conditions(depth: int = 2) -> st.SearchStrategy:
    leaf = st.sampled_from(ACTIONS)
    if depth == 0:
        return leaf
    inner = conditions(depth - 1)
    return leaf | st.builds(
        lambda kind, parts: {kind: parts},
        st.sampled_from(["all", "any"]),
        st.lists(inner, min_size=1, max_size=3),
    )


@st.composite
def escrows(draw, canary: bool = False) -> dict:
    """A random escrow document with up to 8 commitments (terms included)."""
    count = draw(st.integers(0, 8))
    commitments = []
    for i in range(count):
        party = draw(st.sampled_from(PARTIES))
        own = [a for a in ACTIONS if a.startswith(party)]
        gives = draw(st.lists(st.sampled_from(own), unique=True, max_size=2))
        entry: dict = {
            "id": f"c{i}-CANARY{i}" if canary else f"c{i}",
            "party": party,
            "gives": gives,
            "description": f"secret CANARY{i}" if canary else "",
        }
        if draw(st.booleans()):
            entry["requires"] = draw(conditions())
        entry["not_before"] = draw(st.lists(st.sampled_from(ACTIONS), unique=True, max_size=2))
        terms = []
        if gives and draw(st.booleans()):
            low = draw(st.integers(0, 100))
            terms.append(
                {
                    "action": gives[0],
                    "term": "pct",
                    "offer": draw(
                        st.sampled_from(
                            [{"min": low, "max": low + draw(st.integers(0, 50))}, {"min": low}]
                        )
                    ),
                }
            )
        if draw(st.booleans()):
            terms.append(
                {
                    "action": draw(st.sampled_from(ACTIONS)),
                    "term": "pct",
                    "demand": {"min": draw(st.integers(0, 150))},
                }
            )
        entry["terms"] = terms
        commitments.append(entry)
    return {
        "parties": [*PARTIES, {"id": "m", "role": "mediator"}],
        "actions": [
            {
                "id": a,
                "by": a.split(".")[0],
                "description": a,
                **({"guarantor": "m"} if a.endswith("0") else {}),
            }
            for a in ACTIONS
        ],
        "commitments": commitments,
    }


def self_supporting(escrow: ex.Escrow, chosen: tuple[ex.Commitment, ...]) -> bool:
    given = ex.offers(escrow, chosen)
    return all(ex.supported(c, given) for c in chosen)


@settings(max_examples=150)
@given(escrows())
def test_match_is_the_largest_self_supporting_set(document: dict) -> None:
    """match() equals the largest self-supporting subset found by brute force over all subsets."""
    escrow = ex.parse(document)
    matched = ex.match(escrow)
    assert self_supporting(escrow, matched)
    best = max(
        (
            subset
            for r in range(len(escrow.commitments) + 1)
            for subset in itertools.combinations(escrow.commitments, r)
            if self_supporting(escrow, subset)
        ),
        key=len,
    )
    assert len(matched) == len(best)
    assert {c.id for c in best} <= {c.id for c in matched}


@settings(max_examples=150)
@given(escrows())
def test_plan_keeps_every_wait(document: dict) -> None:
    """No action is planned before one it waits on, unless together in a simultaneous stage."""
    escrow = ex.parse(document)
    matched = ex.match(escrow)
    stages = plan(escrow, matched)
    stage_of = {a: i for i, s in enumerate(stages) for a in s.actions}
    assert set(stage_of) == {a for c in matched for a in c.gives}
    for commitment in matched:
        for action in commitment.gives:
            for before in commitment.not_before:
                assert stage_of[before] < stage_of[action] or (
                    stage_of[before] == stage_of[action] and stages[stage_of[action]].simultaneous
                )
    for stage in stages:
        if stage.simultaneous:
            assert stage.verified_by is not None


@settings(max_examples=150)
@given(escrows())
def test_settlements_lie_in_both_ranges_and_are_json(document: dict) -> None:
    """Every settled value lies in the demanded range and in an offered one, and is finite, so
    ``match --json`` prints valid JSON even for ranges open at the top."""
    escrow = ex.parse(document)
    matched = ex.match(escrow)
    settled = ex.settlements(escrow, matched)
    json.dumps(settled, allow_nan=False)
    given_terms = ex.offers(escrow, matched)
    for item in settled:
        (commitment,) = [c for c in matched if c.id == item["for"]]
        demand = next(t for t in commitment.terms if t.demand and t.action == item["action"])
        assert demand.low <= item["value"] <= demand.high
        assert any(o.low <= item["value"] <= o.high for o in given_terms[item["action"]])


@given(
    low=st.one_of(st.just(-math.inf), st.floats(-1e9, 1e9)),
    high=st.one_of(st.just(math.inf), st.floats(-1e9, 1e9)),
)
def test_a_settled_value_is_in_the_overlap_or_none_when_unbounded(low: float, high: float) -> None:
    """Midpoint when bounded, the finite end when open at one end, None when open at both."""
    assume(low <= high)
    value = ex.settled_value(low, high)
    if math.isinf(low) and math.isinf(high):
        assert value is None
    else:
        assert value is not None and math.isfinite(value) and low <= value <= high
        if math.isfinite(low) and math.isfinite(high):
            assert value == (low + high) / 2


@settings(max_examples=150)
@given(escrows(canary=True), st.sampled_from(PARTIES))
def test_party_views_leak_nothing_of_others_sealed_commitments(document: dict, party: str) -> None:
    """A party's view never contains any trace of another party's unmatched commitment."""
    escrow = ex.parse(document)
    matched = {c.id for c in ex.match(escrow)}
    shown = json.dumps(view(escrow, party), ensure_ascii=False)
    for i, commitment in enumerate(escrow.commitments):
        if commitment.party != party and commitment.id not in matched:
            assert f"CANARY{i}" not in shown
    mediator = json.dumps(view(escrow), ensure_ascii=False)
    for i, commitment in enumerate(escrow.commitments):
        if commitment.id not in matched:
            assert f"CANARY{i}" not in mediator


def test_muscat_reports_no_match_and_the_deadlock() -> None:
    """Iran's halving waits on a ceasefire nobody offers; the US offers nothing: a deadlock."""
    result = view(ex.loads(MUSCAT.read_text(encoding="utf-8")))
    assert result["matched"] == [] and result["plan"] == []
    assert result["sealed"] == {"us": 1, "iran": 1}
    assert result["unmet"] == {"iran": ["us.gaza_ceasefire"], "us": ["iran.restrain_groups"]}
    assert "Each side's step waits on the other's" in result["deadlock"]
    assert "us offered us.gaza_ceasefire conditional on iran.halve_attacks" in result["deadlock"]


def test_reciprocal_variant_matches_in_one_simultaneous_stage() -> None:
    """With the US ceasefire conditional on the halving, both match, together, under Oman."""
    result = view(ex.loads(RECIPROCAL.read_text(encoding="utf-8")))
    assert sorted(result["matched"]) == ["iran-halving-if-ceasefire", "us-ceasefire-if-halving"]
    assert result["plan"] == [
        {
            "actions": ["iran.halve_attacks", "us.gaza_ceasefire"],
            "simultaneous": True,
            "verified_by": "oman",
        }
    ]
    assert result["settlements"][0]["value"] == 75.0


def test_terms_must_overlap() -> None:
    """A demand of 60 % against an offer of at most 50 % does not match."""
    document = json.loads(RECIPROCAL.read_text(encoding="utf-8"))
    document["commitments"][1]["terms"][0]["demand"] = {"min": 60}
    document["commitments"][0]["terms"][0]["offer"] = {"min": 30, "max": 50}
    assert view(ex.parse(document))["matched"] == []


def test_sequenced_steps_are_in_turn() -> None:
    """A one-way wait gives two ordered stages, the second verified by its guarantor."""
    document = json.loads(RECIPROCAL.read_text(encoding="utf-8"))
    document["commitments"][1]["not_before"] = []
    result = view(ex.parse(document))
    assert result["plan"] == [
        {"actions": ["us.gaza_ceasefire"], "simultaneous": False, "verified_by": None},
        {"actions": ["iran.halve_attacks"], "simultaneous": False, "verified_by": "oman"},
    ]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["commitments"][0].update(requires="nope"), "commitments[0].requires"),
        (
            lambda d: d["commitments"][0].update(requires={"all": ["us.gaza_ceasefire", 3]}),
            "commitments[0].requires.all[1]",
        ),
        (
            lambda d: d["commitments"][0].update(gives=["us.gaza_ceasefire"]),
            "commitments[0].gives[0]",
        ),
        (lambda d: d["commitments"].append(dict(d["commitments"][0])), "commitments[2].id"),
        (lambda d: d["actions"][0].update(by="qatar"), "actions[0].by"),
        (lambda d: d["commitments"][0].update(colour="red"), "commitments[0].colour"),
        (
            lambda d: d["commitments"][0]["terms"][0].update(offer={"min": 9, "max": 1}),
            "commitments[0].terms[0].offer",
        ),
        (
            lambda d: d["commitments"][0].update(not_before="us.gaza_ceasefire"),
            "commitments[0].not_before",
        ),
    ],
)
def test_invalid_files_name_the_field(edit, field: str) -> None:
    """Each malformed escrow raises EscrowInvalid naming the exact field."""
    document = json.loads(MUSCAT.read_text(encoding="utf-8"))
    edit(document)
    with pytest.raises(EscrowInvalid) as caught:
        ex.parse(document)
    assert caught.value.field == field


def test_malformed_json_gives_line_and_column() -> None:
    """Broken JSON is reported with its line and column."""
    with pytest.raises(EscrowInvalid, match="line 3, column"):
        ex.loads('{\n  "actions": [],\n  oops\n}')
