"""The escrow as a device shows it and composes deposits (:mod:`backchannel.client.deposits`).

A view built by the engine shows its own party's deposits in full and the others' as counts; the
module itself never takes another party's commitment into a party's view, even one the view
holds. Through a real host, a US device's view of the Muscat escrow holds no byte of Iran's
unmatched commitment, while the mediator's shows both deposits. A composed commitment is one
the engine accepts; a pasted one is named by its id, or refused with the engine's code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backchannel import engine
from backchannel.client import deposits
from backchannel.client.deposits import Composed, NewAction
from backchannel.engine import events as ev
from backchannel.errors import DepositMalformed
from tests.client.test_deposits import SEALED, canaried_muscat, through_host
from tests.engine.talks_builder import at, build
from tests.engine.test_deposit import IRAN, US, put

#: Words only Iran's reciprocal commitment holds (its description, its offered term).
IRAN_WORDS = ("Iran will use its influence", '"offer"')


def text_of(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_a_party_sees_its_own_in_full_and_the_others_as_counts() -> None:
    """Even from a view holding both commitments, the US's escrow lists only its own deposit
    (with its member, time, version and commitment) and counts Iran's; the mediator's lists
    both, and the counts of every party."""
    full = build([put("ir1", IRAN), put("us1", US, when=2)])
    assert not full.deposits[IRAN].sealed  # this view holds it: the module must not show it
    us = deposits.escrow_json(full, "us1")
    assert us["party"] == "us" and not us["mediating"]
    assert [d["id"] for d in us["deposits"]] == [US]
    (mine,) = us["deposits"]
    assert (mine["member"]["id"], mine["version"], mine["status"]) == ("us1", 1, "open")
    assert mine["commitment"]["id"] == US and mine["at"] == at(2).isoformat()
    assert us["sealed"] == {"iran": 1, "oman": 0}
    assert not [w for w in IRAN_WORDS if w in text_of(us)]
    oman = deposits.escrow_json(full, "om1")
    assert oman["mediating"] and [d["id"] for d in oman["deposits"]] == [IRAN, US]
    assert oman["sealed"] == {"us": 1, "iran": 1, "oman": 0}


def test_a_match_shows_what_it_revealed_and_its_plan() -> None:
    """After the mediator's announcement, each party's view lists the match: both commitments,
    one simultaneous stage verified by Oman, the reduction settled at 75."""
    talks = build([put("ir1", IRAN), put("us1", US, when=2)])
    announced = engine.deposit.announcement(talks, "m1", at(3), "om1")
    assert announced is not None
    matched = engine.apply(talks, announced)
    for me in ("us1", "ir1", "om1"):
        (found,) = deposits.escrow_json(matched, me)["matches"]
        assert found["deposits"] == [IRAN, US]
        assert [c["id"] for c in found["commitments"]] == [IRAN, US]
        assert found["plan"][0]["simultaneous"] and found["plan"][0]["verified_by"] == "oman"
        assert found["settled"][0]["value"] == 75


def test_a_composed_commitment_is_one_the_engine_accepts() -> None:
    """The form's fields become one commitment in the file format: its gives, its condition
    (any of two), not before them and an offered term; the engine holds it as composed."""
    form = Composed(
        id="us-ceasefire-if-any",
        party="us",
        gives=(NewAction("us.gaza_ceasefire", "us", "Bring about a ceasefire in Gaza"),),
        requires=(NewAction("iran.halve_attacks", "iran"), NewAction("iran.restrain", "iran")),
        any_of=True,
        not_before=True,
        description="A ceasefire if Iran acts first",
        term={"action": "us.gaza_ceasefire", "term": "days", "offer": {"min": 30}},
    )
    text = deposits.compose(form)
    assert deposits.identify(text) == form.id
    talks = engine.apply(
        build(), ev.Deposit(at=at(1), actor="us1", deposit=form.id, commitment=text)
    )
    held = talks.deposits[form.id].commitment
    assert held is not None and held.gives == ("us.gaza_ceasefire",)
    assert held.not_before == ("iran.halve_attacks", "iran.restrain")
    assert held.terms[0].low == 30 and not held.terms[0].demand


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"commitments": []}', '{"commitments": [{"party": "us"}]}'],
)
def test_a_pasted_deposit_without_one_named_commitment_is_refused(text: str) -> None:
    """A paste that is not one commitment with an id is the engine's escrow.malformed."""
    with pytest.raises(DepositMalformed) as caught:
        deposits.identify(text)
    assert caught.value.code == "escrow.malformed"


def test_a_file_without_the_commitment_is_refused() -> None:
    """``from_file`` names the missing commitment; a file that is no JSON object is refused."""
    with pytest.raises(DepositMalformed, match="x-none"):
        deposits.from_file('{"actions": [], "commitments": []}', "x-none")
    with pytest.raises(DepositMalformed):
        deposits.from_file("[1]", "x-none")


def test_through_a_host_a_party_view_holds_no_byte_of_the_others(tmp_path: Path) -> None:
    """Muscat through a real host: every US device's escrow view (and the device's view of the
    talks itself) holds no trace of Iran's unmatched commitment, only its count; Oman's device
    shows both deposits and Iran's commitment whole."""
    stacked, _ = through_host(canaried_muscat(tmp_path), tmp_path / "host")
    seen: dict[str, str] = {}
    for participant in stacked.participants.values():
        view = participant.view
        party = deposits.party_of(view, participant.me) or ""
        shown = deposits.escrow_json(view, participant.me)
        seen[party] = seen.get(party, "") + text_of(shown)
        if party == "us":
            assert view.deposits[IRAN].sealed  # the device does not hold it anyway
            assert shown["sealed"]["iran"] == 1
    assert SEALED not in seen["us"] and IRAN not in seen["us"]  # a count, not even its id
    assert SEALED in seen["oman"] and SEALED in seen["iran"]
    assert '"us-restraint-first"' in seen["oman"]
