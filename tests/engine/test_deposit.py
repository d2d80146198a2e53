"""The escrow as acts: deposits, amendments, withdrawals, notices, matches, and their refusals."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel import engine
from backchannel.engine import codec, deposit
from backchannel.engine import events as ev
from backchannel.engine.audience import audience
from backchannel.engine.rules import DepositStatus
from backchannel.errors import RuleViolation
from tests.engine.talks_builder import at, build

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def commitment_text(file: str, commitment_id: str) -> str:
    """One commitment of a scenario's escrow file, as a deposit carries it."""
    data = json.loads((SCENARIOS / file).read_text(encoding="utf-8"))
    text = deposit.commitment_text(data, commitment_id)
    assert text is not None
    return text


IRAN = "iran-halving-if-ceasefire"
US = "us-ceasefire-if-halving"
RECIPROCAL = "muscat-2024-reciprocal.escrow.json"


def put(actor: str, deposit_id: str, when: float = 1, file: str = RECIPROCAL) -> ev.Deposit:
    """A deposit of ``deposit_id`` from the scenario file, by ``actor``."""
    text = commitment_text(file, deposit_id)
    return ev.Deposit(at=at(when), actor=actor, deposit=deposit_id, commitment=text)


def announce_of(actor: str, deposits: list[str], revealed: list[str]) -> ev.AnnounceMatch:
    """A hand-made announcement (nothing settled, no plan)."""
    return ev.AnnounceMatch(
        at=at(3),
        actor=actor,
        match="m1",
        deposits=json.dumps(deposits),
        settled="[]",
        plan="[]",
        revealed=json.dumps(revealed),
    )


def refusal(talks: engine.Talks, event: ev.Event) -> str:
    """The code the engine refuses ``event`` with; the talks are left as they were."""
    with pytest.raises(RuleViolation) as caught:
        engine.apply(talks, event)
    return caught.value.code


def test_a_deposit_is_held_whole_and_counted() -> None:
    """A deposit stores its party, author, time and parsed commitment; counts show it open."""
    talks = build([put("ir1", IRAN)])
    held = talks.deposits[IRAN]
    assert (held.party, held.member, held.status) == ("iran", "ir1", DepositStatus.OPEN)
    assert held.commitment is not None and held.commitment.gives == ("iran.halve_attacks",)
    assert talks.sealed_counts() == {"us": 0, "iran": 1, "oman": 0}


def test_a_deposit_reaches_the_mediator_and_its_own_party_and_a_notice_the_others() -> None:
    """The whole act goes to oman's and iran's members; us's members get a notice that names
    the deposit and its author and carries nothing of the commitment."""
    before = build()
    event = put("ir1", IRAN)
    forms = audience(before, engine.apply(before, event), event)
    whole = {m for m, form in forms.items() if form is event}
    assert whole == {"ir1", "ir2", "om1", "om2"}
    for member in ("us1", "us2", "us3"):
        notice = forms[member]
        assert isinstance(notice, ev.DepositNotice) and notice.deposit == IRAN
        assert "halve" not in json.dumps(codec.encode(notice))


def test_every_view_reaches_the_same_counts_and_the_mediator_matches() -> None:
    """Each member's view applies the form it receives; every view counts the same deposits,
    only the mediator's holds both commitments, and its announcement is accepted everywhere."""
    omniscient = build()
    views = {m: build() for m in omniscient.members}
    for event in (put("ir1", IRAN), put("us1", US, when=2)):
        after = engine.apply(omniscient, event)
        for member, form in audience(omniscient, after, event).items():
            views[member] = engine.apply(views[member], form)
        omniscient = after
    counts = {m: v.sealed_counts() for m, v in views.items()}
    assert all(c == {"us": 1, "iran": 1, "oman": 0} for c in counts.values())
    assert views["us1"].deposits[IRAN].sealed and not views["om1"].deposits[IRAN].sealed
    assert deposit.announcement(views["us1"], "m1", at(3), "om1") is None  # us cannot match
    announce = deposit.announcement(views["om1"], "m1", at(3), "om1")
    assert announce is not None and json.loads(announce.deposits) == [IRAN, US]
    plan = json.loads(announce.plan)
    assert plan == [
        {
            "actions": ["iran.halve_attacks", "us.gaza_ceasefire"],
            "simultaneous": True,
            "verified_by": "oman",
        }
    ]
    assert (
        json.loads(announce.settled)[0]["value"] == 75.0
    )  # [50, 100] offered, 40 or more demanded
    after = engine.apply(omniscient, announce)
    sent = audience(omniscient, after, announce)
    assert set(sent) == set(omniscient.members)
    # The parties concerned receive the matched deposits' openings with the announcement (the
    # client forwards their signed acts): each view then holds both deposits whole.
    opened = build([put("ir1", IRAN), put("us1", US, when=2)])
    for member, form in sent.items():
        if views[member].deposits[IRAN].sealed or views[member].deposits[US].sealed:
            assert refusal(views[member], form) == "escrow.not_matching"
        view = engine.apply(opened, form)
        assert view.deposits[IRAN].status is DepositStatus.MATCHED
        assert view.matches["m1"].deposits == (IRAN, US)
        # The match reveals the matched commitments to the parties concerned: us reads Iran's.
        assert view.deposits[IRAN].text == omniscient.deposits[IRAN].text
        assert not view.deposits[IRAN].sealed


def test_amend_and_withdraw_are_the_depositing_party_s_own() -> None:
    """The depositing party amends and withdraws; another party is refused (escrow.not_own),
    and a withdrawn deposit can be neither amended nor matched (escrow.stale)."""
    talks = build([put("ir1", IRAN)])
    amend = ev.Amend(
        at=at(2), actor="ir1", deposit=IRAN, commitment=commitment_text(RECIPROCAL, IRAN)
    )
    assert engine.apply(talks, amend).deposits[IRAN].version == 2
    assert refusal(talks, ev.Withdraw(at=at(2), actor="us1", deposit=IRAN)) == "escrow.not_own"
    assert refusal(talks, ev.Withdraw(at=at(2), actor="ir1", deposit="x")) == "escrow.unknown"
    gone = engine.apply(talks, ev.Withdraw(at=at(2), actor="ir2", deposit=IRAN))
    assert gone.deposits[IRAN].status is DepositStatus.WITHDRAWN
    assert gone.sealed_counts()["iran"] == 0
    assert refusal(gone, amend) == "escrow.stale"
    stale = announce_of("om1", [IRAN], ["{}"])
    assert refusal(gone, stale) == "escrow.stale"


def test_a_deposit_needs_a_propose_mandate() -> None:
    """A member holding only 'observe' may not deposit, amend or withdraw, on any device."""
    assert refusal(build(), put("us2", US)) == "mandate.insufficient"
    notice = ev.DepositNotice(at=at(1), actor="us2", deposit=US)
    assert refusal(build(), notice) == "mandate.insufficient"


def test_only_the_mediator_announces_and_only_what_matches() -> None:
    """A party's member announcing is refused (escrow.not_mediator); the mediator's device
    refuses an announcement that is not what the matcher finds (escrow.not_matching)."""
    talks = build([put("ir1", IRAN), put("us1", US, when=2)])
    good = deposit.announcement(talks, "m1", at(3), "om1")
    assert good is not None
    forged = replace(good, actor="us1")
    assert refusal(talks, forged) == "escrow.not_mediator"
    partial = announce_of("om1", [IRAN], [talks.deposits[IRAN].text])
    assert refusal(talks, partial) == "escrow.not_matching"
    unknown = announce_of("om1", ["nope"], ["{}"])
    assert refusal(talks, unknown) == "escrow.unknown"


def test_the_muscat_deposits_do_not_match() -> None:
    """The Muscat commitments deposited through the talks: counted, and no match to announce."""
    file = "muscat-2024.escrow.json"
    talks = build([put("ir1", IRAN, file=file), put("us1", "us-restraint-first", 2, file)])
    assert talks.sealed_counts() == {"us": 1, "iran": 1, "oman": 0}
    assert deposit.announcement(talks, "m1", at(3), "om1") is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "not valid JSON"),
        ('{"commitments": []}', "exactly one"),
        ('{"actions": [], "commitments": [{"id": "d", "party": "us"}]}', None),
        ('{"actions": [], "commitments": [{"id": "other", "party": "iran"}]}', "is not"),
        ('{"actions": [], "commitments": [{"id": "d", "party": "us"}], "parties": []}', None),
        (
            '{"actions": [{"id": "a", "by": "nobody"}], '
            '"commitments": [{"id": "d", "party": "iran", "requires": "a"}]}',
            "not a party",
        ),
        ('{"actions": [], "commitments": [{"id": "d", "party": "iran", "gives": ["x"]}]}', "x"),
    ],
)
def test_a_malformed_deposit_is_refused_and_stores_nothing(text: str, why: str | None) -> None:
    """Each malformed commitment is refused with escrow.malformed and leaves no deposit."""
    talks = build()
    event = ev.Deposit(at=at(1), actor="ir1", deposit="d", commitment=text)
    with pytest.raises(RuleViolation) as caught:
        engine.apply(talks, event)
    assert caught.value.code == "escrow.malformed"
    if why is not None:
        assert why in caught.value.message
    assert not talks.deposits


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "party", "gives", "requires", "actions"]), inner)
    ),
)
deposit_docs = st.fixed_dictionaries(
    {"commitments": st.lists(json_values, max_size=2)},
    optional={"actions": json_values},
)


@given(st.text(max_size=200) | json_values.map(json.dumps) | deposit_docs.map(json.dumps))
def test_any_deposit_text_is_accepted_or_refused_with_its_code(text: str) -> None:
    """Whatever text a deposit carries, the engine accepts it or refuses it with a rule code."""
    event = ev.Deposit(at=at(1), actor="ir1", deposit="d", commitment=text)
    try:
        engine.apply(build(), event)
    except RuleViolation as exc:
        assert exc.code == "escrow.malformed"


@given(st.sampled_from([IRAN, US]), st.booleans())
def test_escrow_events_round_trip_through_the_codec(deposit_id: str, notice: bool) -> None:
    """Deposits and notices encode and decode to the same event."""
    event: ev.Event = (
        ev.DepositNotice(at=at(1), actor="ir1", deposit=deposit_id, amended=True)
        if notice
        else put("ir1", deposit_id)
    )
    assert codec.decode(codec.encode(event)) == event


def test_a_party_checks_the_revealed_commitments() -> None:
    """A party's device, which holds only a notice of the other side's deposit, refuses a match
    that does not bring its opening; once opened, it refuses a match that reveals another text
    for either deposit, or commitments that do not match as announced (escrow.not_matching)."""
    omniscient = build()
    us_view = build()
    for event in (put("ir1", IRAN), put("us1", US, when=2)):
        after = engine.apply(omniscient, event)
        us_view = engine.apply(us_view, audience(omniscient, after, event)["us1"])
        omniscient = after
    good = deposit.announcement(omniscient, "m1", at(3), "om1")
    assert good is not None
    # Without the opening of Iran's deposit, the US's device does not take the mediator's word.
    assert refusal(us_view, good) == "escrow.not_matching"
    us_view = build([put("ir1", IRAN), put("us1", US, when=2)])  # the opening arrived with it
    assert engine.apply(us_view, good).deposits[IRAN].commitment is not None
    texts = json.loads(good.revealed)
    mine_changed = replace(good, revealed=json.dumps([texts[0], texts[0]]))
    assert refusal(us_view, mine_changed) == "escrow.not_matching"
    other = json.loads(texts[0])
    # Iran offering at most 30 per cent: below the US's demand of 40, so the US's does not hold.
    other["commitments"][0]["terms"][0]["offer"] = {"min": 10, "max": 30}
    unsupported = replace(good, revealed=json.dumps([json.dumps(other), texts[1]]))
    assert refusal(us_view, unsupported) == "escrow.not_matching"


def notice_of(actor: str, deposits: list[str], match: str = "m1") -> ev.MatchNotice:
    """A match as a party outside it receives it."""
    return ev.MatchNotice(at=at(3), actor=actor, match=match, deposits=json.dumps(deposits))


def test_a_match_notice_closes_its_deposits_sealed_and_is_the_mediators_alone() -> None:
    """A party outside a match applies its notice: the deposits close, still sealed, and the
    match is known without its terms; a notice from a non-mediator, of unknown or closed
    deposits, or reusing a match id is refused with its code and changes nothing."""
    sealed = [
        ev.DepositNotice(at=at(1), actor="ir1", deposit=IRAN),
        ev.DepositNotice(at=at(2), actor="us1", deposit=US),
    ]
    talks = build(sealed)
    after = engine.apply(talks, notice_of("om1", [IRAN, US]))
    assert {d.status for d in after.deposits.values()} == {DepositStatus.MATCHED}
    assert all(d.sealed for d in after.deposits.values())
    assert after.matches["m1"].deposits == (IRAN, US) and after.matches["m1"].settled == ""
    assert after.sealed_counts() == {"us": 0, "iran": 0, "oman": 0}
    assert refusal(talks, notice_of("us1", [IRAN, US])) == "escrow.not_mediator"
    assert refusal(talks, notice_of("om1", ["nothing"])) == "escrow.unknown"
    assert refusal(talks, notice_of("om1", [])) == "escrow.not_matching"
    assert refusal(after, notice_of("om1", [IRAN], match="m2")) == "escrow.stale"
    assert refusal(after, notice_of("om1", [IRAN])) == "id.duplicate"


def test_a_match_reaches_its_parties_whole_and_the_others_as_a_notice() -> None:
    """With a fourth party in the talks, the match goes whole to the mediator's, Iran's and the
    US's members; every other member receives its notice, naming the same deposits only."""
    talks = build([put("ir1", IRAN), put("us1", US)])
    for event in (
        ev.AddParty(at=at(2), actor="qatar", party="qatar"),
        ev.AddMember(
            at=at(2), actor="qatar", member="qa1", party="qatar", first_device="qa1.d1",
            fingerprint="fp-qa1",
        ),
    ):  # fmt: skip
        talks = engine.apply(talks, event)
    found = deposit.announcement(talks, "m1", at(3), "om1")
    assert found is not None
    forms = audience(talks, engine.apply(talks, found), found)
    assert forms["qa1"] == ev.MatchNotice(
        at=found.at, actor="om1", match="m1", deposits=found.deposits
    )
    assert all(forms[m] is found for m in ("ir1", "us1", "om1"))


def expiring(actor: str, deposit_id: str, expires: str, when: float = 1) -> ev.Deposit:
    """A deposit of the reciprocal file's ``deposit_id`` that expires at ``expires``."""
    document = json.loads(commitment_text(RECIPROCAL, deposit_id))
    document["commitments"][0]["expires"] = expires
    text = json.dumps(document)
    return ev.Deposit(at=at(when), actor=actor, deposit=deposit_id, commitment=text)


def test_an_expired_commitment_matches_nothing_judged_at_the_records_time() -> None:
    """Iran's commitment expires at 09:02:30. A match the mediator computed at 09:02 is
    accepted if the record places it then, and refused (escrow.stale) if the record places it
    at 09:03, whatever time the announcement claims; computed at 09:03, nothing matches. A
    deposit already expired at its own place is malformed."""
    expires = at(2.5).isoformat()
    talks = build([expiring("ir1", IRAN, expires), put("us1", US, when=2)])
    early = deposit.announcement(talks, "m1", at(2), "om1")
    assert early is not None and json.loads(early.deposits) == [IRAN, US]
    matched = engine.apply(talks, early, recorded_at=at(2))
    assert matched.deposits[IRAN].status is DepositStatus.MATCHED
    with pytest.raises(RuleViolation) as late:
        engine.apply(talks, early, recorded_at=at(3))
    assert late.value.code == "escrow.stale" and "expired" in late.value.message
    assert deposit.announcement(talks, "m1", at(3), "om1") is None
    with pytest.raises(RuleViolation) as stale:
        engine.apply(build(), expiring("ir1", IRAN, expires, when=3), recorded_at=at(3))
    assert stale.value.code == "escrow.malformed"


@pytest.mark.parametrize("value", ["2024-01-31T12:00", "tomorrow", 1706702400, None])
def test_an_expiry_without_an_offset_or_not_a_time_is_refused(value: object) -> None:
    """``expires`` must be an ISO 8601 time with its offset: the refusal names the field."""
    document = json.loads(commitment_text(RECIPROCAL, IRAN))
    document["commitments"][0]["expires"] = value
    with pytest.raises(RuleViolation) as caught:
        engine.apply(build(), ev.Deposit(at=at(1), actor="ir1", deposit=IRAN,
                                         commitment=json.dumps(document)))  # fmt: skip
    assert caught.value.code == "escrow.malformed" and "expires" in caught.value.message
