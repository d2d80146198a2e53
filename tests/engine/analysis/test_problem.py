"""Problem files: every malformed field is named; trades point the right way."""

from __future__ import annotations

import copy
import json

import pytest

from backchannel.engine import analysis as an
from backchannel.errors import ProblemInvalid
from tests.test_scenario import ROOT

MUSCAT = ROOT / "examples" / "analysis" / "muscat.json"


def muscat() -> dict:
    return json.loads(MUSCAT.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (
            lambda d: d["parties"][1]["values"]["gaza_ceasefire"].pop("full"),
            "parties[1].values.gaza_ceasefire.full",
        ),
        (
            lambda d: d["parties"][1]["values"]["gaza_ceasefire"].update(full="lots"),
            "parties[1].values.gaza_ceasefire.full",
        ),
        (lambda d: d["parties"][0]["weights"].pop("sequencing"), "parties[0].weights.sequencing"),
        (lambda d: d["parties"][0]["weights"].update(oil=1), "parties[0].weights.oil"),
        (lambda d: d["parties"][0].update(reservation=float("nan")), "parties[0].reservation"),
        (lambda d: d["issues"][1].update(options=[]), "issues[1].options"),
        (lambda d: d["issues"].append(copy.deepcopy(d["issues"][0])), "issues[4].id"),
        (lambda d: d["parties"].pop(), "parties"),
        (
            lambda d: d.update(constraints=[{"a": {"issue": "x", "option": "y"}, "b": {}}]),
            "constraints[0].a.issue",
        ),
        (lambda d: d.update(colour="red"), "colour"),
    ],
)
def test_invalid_fields_are_named(edit, field: str) -> None:
    """Each malformed problem raises ProblemInvalid naming the exact field path."""
    document = muscat()
    edit(document)
    with pytest.raises(ProblemInvalid) as caught:
        an.parse(document)
    assert caught.value.field == field


def test_broken_json_names_line_and_column() -> None:
    """Malformed JSON gives the line and column."""
    with pytest.raises(ProblemInvalid, match="line 2, column"):
        an.loads('{"issues":\n [}')


def test_trades_follow_the_weights() -> None:
    """The US weighs attacks most, Iran the ceasefire: the top trade pairs those issues."""
    top = an.trades(an.parse(muscat()))[0]
    assert top.parties == ("us", "iran")
    assert set(top.issues) == {"gaza_ceasefire", "red_sea_attacks"} or set(top.issues) == {
        "gaza_ceasefire",
        "bases_iraq_syria",
    }
    assert top.issues[1] == "gaza_ceasefire"  # the US cares relatively more about the other one


def test_identical_priorities_offer_no_trade() -> None:
    """Parties weighing issues alike have nothing to log-roll."""
    document = muscat()
    document["parties"][1]["weights"] = dict(document["parties"][0]["weights"])
    assert an.trades(an.parse(document)) == []
