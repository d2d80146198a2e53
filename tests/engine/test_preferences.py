"""Private preferences as acts: the agenda, each party's scores, their notices and refusals, and
the analysis the mediator's view runs over what it holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel import engine
from backchannel.engine import codec, preferences, scores
from backchannel.engine import events as ev
from backchannel.engine.audience import audience, party_form
from backchannel.errors import ProblemInvalid, RuleViolation, ScoresMalformed
from tests.engine.talks_builder import at, build

AGENDA = {
    "issues": [
        {"id": "ceasefire", "name": "Gaza ceasefire", "options": ["none", "pause", "full"]},
        {"id": "attacks", "options": ["unchanged", "halved", "stopped"]},
    ]
}
#: Distinctive numbers and a note: what must never reach a device outside the audience.
CANARY = "canary-iran-scores-7f3a"


def iran_scores(**changes: Any) -> dict[str, Any]:
    """Iran's scores of :data:`AGENDA` (values chosen so the analysis has a real frontier)."""
    data: dict[str, Any] = {
        "party": "iran",
        "points": {"ceasefire": 73, "attacks": 27},
        "values": {
            "ceasefire": {"none": 0, "pause": 41, "full": 100},
            "attacks": {"unchanged": 100, "halved": 63, "stopped": 0},
        },
        "reservation": 17,
        "note": CANARY,
    }
    data.update(changes)
    return data


def us_scores() -> dict[str, Any]:
    """The US's scores: the attacks matter most to it."""
    return {
        "party": "us",
        "points": {"ceasefire": 35, "attacks": 65},
        "values": {
            "ceasefire": {"none": 100, "pause": 70, "full": 20},
            "attacks": {"unchanged": 0, "halved": 60, "stopped": 100},
        },
    }


def agenda(actor: str = "om1", when: float = 1, data: Any = None) -> ev.SetAgenda:
    """The mediator's member sets :data:`AGENDA` (or ``data``)."""
    return ev.SetAgenda(at=at(when), actor=actor, agenda=json.dumps(data or AGENDA))


def submit(actor: str, data: Any, version: int = 1, when: float = 2) -> ev.SubmitScores:
    """``actor`` submits ``data`` (a document, or text as it is) for agenda ``version``."""
    text = data if isinstance(data, str) else json.dumps(data)
    return ev.SubmitScores(at=at(when), actor=actor, version=version, scores=text)


def refusal(talks: engine.Talks, event: ev.Event) -> str:
    """The code the engine refuses ``event`` with."""
    with pytest.raises(RuleViolation) as caught:
        engine.apply(talks, event)
    return caught.value.code


def test_the_mediator_sets_a_versioned_agenda_every_device_holds() -> None:
    """The agenda reaches every device (talks-wide, in the shared state); a second one is
    version 2, and only the mediator's party sets it (prefs.not_mediator)."""
    talks = build([agenda()])
    assert talks.agenda is not None and talks.agenda.version == 1
    assert [i.id for i in talks.agenda.issues] == ["ceasefire", "attacks"]
    assert engine.shared_state(talks)["agenda"]["version"] == 1
    again = engine.apply(talks, agenda(when=3))
    assert again.agenda is not None and again.agenda.version == 2
    assert refusal(build(), agenda(actor="us1")) == "prefs.not_mediator"
    assert refusal(build(), agenda(actor="om2")) == "mandate.insufficient"  # speak only
    assert "agenda" not in engine.shared_state(build())


def test_scores_reach_the_mediator_and_their_party_and_a_notice_the_others() -> None:
    """Iran's scores go whole to oman's and iran's members; the US's members and root receive a
    notice naming who submitted and for which version, with nothing of the scores."""
    before = build([agenda()])
    event = submit("ir1", iran_scores())
    forms = audience(before, engine.apply(before, event), event)
    assert {m for m, form in forms.items() if form is event} == {"ir1", "ir2", "om1", "om2"}
    for member in ("us1", "us2", "us3"):
        notice = forms[member]
        assert isinstance(notice, ev.ScoresNotice) and notice.version == 1
        encoded = json.dumps(codec.encode(notice))
        assert CANARY not in encoded and "73" not in encoded
    assert isinstance(party_form(before, "us", event), ev.ScoresNotice)
    assert party_form(before, "oman", event) is event


def test_every_view_knows_who_submitted_and_only_the_mediator_analyses() -> None:
    """Applying the forms each member receives: every view knows both parties submitted; the
    US view holds only its own scores, the mediator's holds both and analyses them."""
    omniscient = build([agenda()])
    views = {m: build([agenda()]) for m in omniscient.members}
    for event in (submit("ir1", iran_scores()), submit("us1", us_scores(), when=3)):
        after = engine.apply(omniscient, event)
        for member, form in audience(omniscient, after, event).items():
            views[member] = engine.apply(views[member], form)
        omniscient = after
    for view in views.values():
        assert preferences.submitted(view) == {"us": True, "iran": True}
    us_view = views["us1"]
    assert us_view.submissions["iran"].sealed and not us_view.submissions["us"].sealed
    assert preferences.problem(us_view) is None and preferences.analysis(us_view) is None
    found = preferences.analysis(views["om1"])
    assert found is not None and found["parties"] == ["us", "iran"]
    assert found["nash"] is not None and found["frontier"]
    assert found["adjusted_winner"]["parties"] == ["us", "iran"]
    nash = found["nash"]["package"]
    # The problem's utilities are the scores' own: Σ points × value / 100.
    assert found["nash"]["utilities"][1] == pytest.approx(
        scores.parse_scores(json.dumps(iran_scores()), omniscient.agenda).utility(nash)  # type: ignore[arg-type]
    )
    assert preferences.own_utility(us_view, "us", nash) == pytest.approx(
        found["nash"]["utilities"][0]
    )
    assert preferences.own_utility(us_view, "iran", nash) is None


def test_a_new_submission_replaces_the_last_and_a_new_agenda_makes_scores_stale() -> None:
    """A second submission replaces the party's first (count 2); after a new agenda the old
    scores drop out of the analysis, and scores of the old version are refused (prefs.stale)."""
    talks = build([agenda(), submit("ir1", iran_scores()), submit("us1", us_scores(), when=3)])
    changed = iran_scores(points={"ceasefire": 50, "attacks": 50})
    talks = engine.apply(talks, submit("ir2", changed, when=4))
    held = talks.submissions["iran"]
    assert held.count == 2 and held.member == "ir2" and held.scores is not None
    assert held.scores.points["ceasefire"] == 50
    assert preferences.problem(talks) is not None
    newer = engine.apply(talks, agenda(when=5))
    assert preferences.problem(newer) is None
    assert preferences.submitted(newer) == {"us": False, "iran": False}
    assert refusal(newer, submit("ir1", iran_scores(), version=1, when=6)) == "prefs.stale"
    assert engine.apply(newer, submit("ir1", iran_scores(), version=2, when=6))
    assert refusal(build(), submit("ir1", iran_scores())) == "prefs.stale"  # no agenda yet


def test_scores_are_the_party_s_own_and_need_a_propose_mandate() -> None:
    """Another party's scores or the mediator's own are refused (prefs.not_own); a member
    holding only 'observe' may not submit, nor send a notice (mandate.insufficient)."""
    talks = build([agenda()])
    assert refusal(talks, submit("us1", iran_scores())) == "prefs.not_own"
    assert refusal(talks, submit("om1", iran_scores(party="oman"))) == "prefs.not_own"
    assert refusal(talks, submit("us2", us_scores())) == "mandate.insufficient"
    notice = ev.ScoresNotice(at=at(2), actor="us2", version=1)
    assert refusal(talks, notice) == "mandate.insufficient"
    assert refusal(talks, ev.ScoresNotice(at=at(2), actor="ir1", version=3)) == "prefs.stale"


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"points": {"ceasefire": 70, "attacks": 27}}, "sum to 100, not 97"),
        ({"points": {"ceasefire": 73}}, "points.attacks is missing"),
        ({"points": {"ceasefire": 73, "attacks": 27, "oil": 0}}, "'oil' is not an issue"),
        ({"points": {"ceasefire": 73.0, "attacks": 27}}, "whole number"),
        ({"points": {"ceasefire": 110, "attacks": -10}}, "from 0 to 100"),
        (
            {"values": {"ceasefire": {"none": 0, "pause": 41, "full": 101}, "attacks": {}}},
            "values.ceasefire.full must be",
        ),
        (
            {
                "values": {
                    "ceasefire": {"none": 0, "pause": 41, "full": 100, "truce": 5},
                    "attacks": {"unchanged": 100, "halved": 63, "stopped": 0},
                }
            },
            "'truce' is not an option of ceasefire",
        ),
        ({"reservation": 101}, "reservation"),
        ({"note": 7}, "note"),
        ({"extra": 1}, "extra is not a field"),
    ],
)
def test_malformed_scores_are_refused_and_store_nothing(changes: dict[str, Any], why: str) -> None:
    """Each malformed submission is refused with prefs.malformed naming what is wrong; no
    submission is stored."""
    talks = build([agenda()])
    with pytest.raises(RuleViolation) as caught:
        engine.apply(talks, submit("ir1", iran_scores(**changes)))
    assert caught.value.code == "prefs.malformed"
    assert why in caught.value.message
    assert not talks.submissions


@pytest.mark.parametrize(
    "data",
    [
        {"issues": []},
        {"issues": [{"id": "a", "options": ["only"]}]},
        {"issues": [{"id": "a", "options": ["x", "x"]}]},
        {"issues": [{"id": "a", "options": ["x", "y"]}, {"id": "a", "options": ["x", "y"]}]},
        {"issues": [{"id": "", "options": ["x", "y"]}]},
        {"issues": [{"id": "a", "options": ["x", "y"], "weights": 1}]},
        {"title": "no issues"},
    ],
)
def test_a_malformed_agenda_is_refused(data: dict[str, Any]) -> None:
    """An agenda without issues, with a one-option issue, repeated ids or unknown fields is
    refused (prefs.malformed) and leaves no agenda."""
    talks = build()
    assert refusal(talks, agenda(data=data)) == "prefs.malformed"
    assert talks.agenda is None


def test_talks_without_a_mediator_have_no_agenda() -> None:
    """Without a mediator nobody holds every party's scores, so nobody sets an agenda."""
    talks = engine.Talks(id="t")
    for party in ("a", "b"):
        talks = engine.apply(talks, ev.AddParty(at=at(0), actor=party, party=party))
    refused = ev.SetAgenda(at=at(1), actor="a", agenda=json.dumps(AGENDA))
    assert refusal(talks, refused) == "prefs.not_mediator"


def test_packages_and_the_offer_s_words() -> None:
    """A package names one option of every issue (else ProblemInvalid naming the issue); its
    offer text names each issue and option in agenda order."""
    talks = build([agenda()])
    chosen = {"attacks": "halved", "ceasefire": "full"}
    assert list(preferences.package(talks, chosen)) == ["ceasefire", "attacks"]
    text = preferences.offer_text(talks, chosen)
    assert text.index("Gaza ceasefire: full") < text.index("attacks: halved")
    with pytest.raises(ProblemInvalid, match=r"package\.attacks"):
        preferences.package(talks, {"ceasefire": "full"})
    with pytest.raises(ProblemInvalid, match=r"package\.oil"):
        preferences.package(talks, {**chosen, "oil": "x"})


def test_a_problem_file_party_becomes_scores() -> None:
    """A party of an ``analyze`` problem file: weights scaled to 100 whole points (largest
    remainders), values rounded; the result parses as that party's scores."""
    problem = {
        "issues": [{"id": "ceasefire", "options": ["none", "pause", "full"]}],
        "parties": [
            {"id": "iran", "weights": {"ceasefire": 1, "attacks": 2}, "values": {}},
        ],
    }
    data = scores.from_problem(problem, "iran")
    assert data["points"] == {"ceasefire": 33, "attacks": 67}
    with pytest.raises(ScoresMalformed, match="no party 'us'"):
        scores.from_problem(problem, "us")


def test_sealed_submissions_replay_without_their_scores() -> None:
    """Replayed sealed (a bundle without content), a submission counts, holds no scores."""
    talks = engine.apply(build([agenda()]), submit("ir1", "not even json"), sealed=True)
    assert talks.submissions["iran"].sealed


score_values = st.one_of(
    st.integers(-5, 105), st.floats(allow_nan=True), st.text(max_size=3), st.none(), st.booleans()
)
score_docs = st.fixed_dictionaries(
    {
        "party": st.sampled_from(["iran", "us", "", "oman"]),
        "points": st.dictionaries(st.sampled_from(["ceasefire", "attacks", "oil"]), score_values),
        "values": st.dictionaries(
            st.sampled_from(["ceasefire", "attacks"]),
            st.dictionaries(
                st.sampled_from(["none", "pause", "full", "unchanged", "halved", "stopped"]),
                score_values,
            ),
        ),
    },
    optional={"reservation": score_values, "note": st.text(max_size=5)},
)


@given(score_docs | st.text(max_size=50).map(json.dumps) | st.text(max_size=50))
def test_any_scores_are_accepted_or_refused_with_a_preferences_code(data: Any) -> None:
    """Whatever a submission carries, the engine accepts it as Iran's valid scores (points
    summing to 100, values in range) or refuses it with prefs.malformed or prefs.not_own."""
    talks = build([agenda()])
    event = submit("ir1", data if isinstance(data, str) else json.dumps(data))
    try:
        after = engine.apply(talks, event)
    except RuleViolation as exc:
        assert exc.code in {"prefs.malformed", "prefs.not_own"}
        return
    held = after.submissions["iran"].scores
    assert held is not None and sum(held.points.values()) == 100
    assert all(0 <= v <= 100 for per in held.values.values() for v in per.values())


@given(
    st.lists(st.integers(0, 100), min_size=2, max_size=2).filter(lambda p: sum(p) <= 100),
    st.lists(st.integers(0, 100), min_size=6, max_size=6),
)
def test_valid_scores_round_trip_and_utilities_stay_in_range(
    points: list[int], values: list[int]
) -> None:
    """Any valid scores parse back to the document they came from (to_json), and every
    package's utility lies between 0 and 100."""
    talks = build([agenda()])
    assert talks.agenda is not None
    data = {
        "party": "iran",
        "points": {"ceasefire": points[0], "attacks": 100 - points[0]},
        "values": {
            "ceasefire": dict(zip(["none", "pause", "full"], values[:3], strict=True)),
            "attacks": dict(zip(["unchanged", "halved", "stopped"], values[3:], strict=True)),
        },
    }
    parsed = scores.parse_scores(json.dumps(data), talks.agenda)
    assert parsed.to_json() == data
    assert scores.parse_scores(scores.dumps(parsed.to_json()), talks.agenda) == parsed
    for option in ("none", "pause", "full"):
        assert 0 <= parsed.utility({"ceasefire": option, "attacks": "halved"}) <= 100
    assert "73" not in repr(parsed) and "iran" in repr(parsed)


@given(st.sampled_from([1, 2, 9]))
def test_preference_events_round_trip_through_the_codec(version: int) -> None:
    """Agendas, submissions and notices encode and decode to the same event."""
    for event in (
        agenda(),
        submit("ir1", iran_scores(), version=version),
        ev.ScoresNotice(at=at(2), actor="ir1", version=version),
    ):
        assert codec.decode(codec.encode(event)) == event


def _valid(party: str, data: st.DataObject) -> dict[str, Any]:
    """Any valid scores of :data:`AGENDA` for ``party``."""
    first = data.draw(st.integers(0, 100))
    values = {
        issue["id"]: {o: data.draw(st.integers(0, 100)) for o in issue["options"]}
        for issue in AGENDA["issues"]
    }
    return {
        "party": party,
        "points": {"ceasefire": first, "attacks": 100 - first},
        "values": values,
        "reservation": data.draw(st.integers(0, 30)),
    }


@given(st.data())
def test_each_view_analyses_only_what_it_may_hold(data: st.DataObject) -> None:
    """For any two valid scorings: the mediator's view, built from the forms it receives,
    analyses exactly what an omniscient view does; each party's view holds its own scores
    and none of the other's, and can analyse nothing."""
    omniscient = build([agenda()])
    views = {m: build([agenda()]) for m in ("om1", "us1", "ir1")}
    for actor, party in (("us1", "us"), ("ir1", "iran")):
        event = submit(actor, _valid(party, data), when=2)
        after = engine.apply(omniscient, event)
        for member, form in audience(omniscient, after, event).items():
            if member in views:
                views[member] = engine.apply(views[member], form)
        omniscient = after
    assert preferences.analysis(views["om1"]) == preferences.analysis(omniscient)
    for member, own, other in (("us1", "us", "iran"), ("ir1", "iran", "us")):
        view = views[member]
        assert view.submissions[own].scores == omniscient.submissions[own].scores
        assert view.submissions[other].sealed and view.submissions[other].text == ""
        assert preferences.analysis(view) is None
