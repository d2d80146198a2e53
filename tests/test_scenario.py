"""Loading scenario files: the shipped cases load, and every kind of bad file names its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.engine import events as ev
from backchannel.errors import ScenarioInvalid
from backchannel.scenario import load, loads

ROOT = Path(__file__).resolve().parents[1]
MUSCAT = ROOT / "scenarios" / "muscat-2024.toml"
DIRECT = ROOT / "scenarios" / "direct-channel-2026.toml"

MINIMAL = """\
[talks]
id = "t"
start = 2024-01-10T09:00:00+04:00

[[parties]]
id = "a"

[[parties]]
id = "m"
role = "mediator"

[[members]]
id = "a1"
party = "a"
mandate = "speak"

[[members]]
id = "m1"
party = "m"
mandate = "speak"

[[rooms]]
id = "a-caucus"
kind = "caucus"
party = "a"
members = ["a1", "m1"]

[[steps]]
at = 2024-01-10T10:00:00+04:00
actor = "a1"
action = "send"
id = "hello"
room = "a-caucus"
label = "carry-gist"
text = "hello"
"""


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first occurrence of ``needle``."""
    return text[: text.index(needle)].count("\n") + 1


def test_shipped_scenarios_load() -> None:
    """Both reference cases load, with set-up applied and steps waiting."""
    for path in (MUSCAT, DIRECT):
        scenario = load(path)
        assert scenario.steps and scenario.talks.rooms and scenario.talks.members


def test_names_in_arabic_and_persian_load() -> None:
    """name_ar / name_fa of parties, members and rooms, and title_ar / title_fa of the talks, are
    the engine's names in other languages; a name without them has none."""
    muscat = load(MUSCAT)
    oman = muscat.talks.parties["oman"]
    assert oman.names.in_lang("ar", oman.name) == "سلطنة عُمان"
    assert oman.names.in_lang("fa", oman.name) == "عمان"
    assert muscat.talks.members["bagheri"].names.in_lang("fa", "") == "علی باقری کنی"
    assert muscat.talks.rooms["iran-caucus"].names.in_lang("ar", "") == "الغرفة الإيرانية، مع عُمان"
    assert muscat.title_names.in_lang("fa", "").startswith("مذاکرات غیرمستقیم مسقط")
    assert not loads(MINIMAL).talks.parties["a"].names


def test_minimal_scenario_loads() -> None:
    """The minimal file here is valid (the bad-file cases below are edits of it)."""
    scenario = loads(MINIMAL)
    assert [s.event.action.value for s in scenario.steps] == ["send"]


@pytest.mark.parametrize(
    ("old", "new", "at_line_of", "reason"),
    [
        ('action = "send"', 'action = "shout"', 'action = "shout"', "not one of"),
        ('label = "carry-gist"', 'label = "secret"', 'label = "secret"', "carry label"),
        ('label = "carry-gist"\n', "", "[[steps]]", "label is missing"),
        (
            "at = 2024-01-10T10:00:00+04:00",
            "at = 2024-01-10T10:00:00",
            "at = 2024-01-10T10:00:00",
            "UTC offset",
        ),
        ('text = "hello"', 'text = "hello"\nexpect_error = "no.such"', "expect_error", "rule code"),
        ('text = "hello"', 'text = "hello"\ncolour = "red"', "colour", "unknown field"),
        ('mandate = "speak"', 'mandate = "emperor"', 'mandate = "emperor"', "mandate level"),
        (
            'members = ["a1", "m1"]',
            'members = ["a1", "nobody"]',
            'members = ["a1", "nobody"]',
            "no member",
        ),
        ('kind = "caucus"', 'kind = "delegation"', 'members = ["a1", "m1"]', "room.composition"),
        ('text = "hello"', 'text = "hello', 'text = "hello', "not valid TOML"),
        ('role = "mediator"', 'role = "judge"', 'role = "judge"', "role"),
        ('id = "hello"', 'id = "has space"', 'id = "has space"', "not an id"),
        ('id = "a"\n', 'id = "a"\nname_fa = ""\n', 'name_fa = ""', "name in fa must be non-empty"),
        ('id = "a1"\n', 'id = "a1"\nname_fa = 7\n', "name_fa = 7", "name_fa must be a string"),
        ('id = "t"\n', 'id = "t"\ntitle_fa = "  "\n', 'title_fa = "  "', "talks.title_fa"),
        ('id = "a"\n', 'id = "a"\nname_de = "A"\n', 'name_de = "A"', "unknown field"),
    ],
)
def test_bad_files_name_the_line_and_reason(
    old: str, new: str, at_line_of: str, reason: str
) -> None:
    """Each malformed file raises ScenarioInvalid pointing at the offending line."""
    text = MINIMAL.replace(old, new, 1)
    assert text != MINIMAL
    with pytest.raises(ScenarioInvalid) as caught:
        loads(text, "case.toml")
    error = caught.value
    assert error.line == line_of(text, at_line_of), error.message
    assert reason in error.message
    assert error.message.startswith(f"case.toml:{error.line}: ")


def test_missing_sections_and_file() -> None:
    """No [talks], no [[steps]] or an unreadable path are reported, without a line."""
    with pytest.raises(ScenarioInvalid, match="no \\[talks\\]"):
        loads(MINIMAL[MINIMAL.index("[[parties]]") :])
    with pytest.raises(ScenarioInvalid, match="unknown section"):
        loads(MINIMAL + "\n[extras]\nx = 1\n")
    with pytest.raises(ScenarioInvalid, match="no \\[\\[steps\\]\\]"):
        loads(MINIMAL[: MINIMAL.index("[[steps]]")])
    with pytest.raises(ScenarioInvalid, match="cannot read"):
        load(ROOT / "scenarios" / "does-not-exist.toml")


@settings(max_examples=150)
@given(st.data())
def test_any_corruption_gives_scenario_invalid_or_loads(data: st.DataObject) -> None:
    """Deleting, duplicating or garbling lines of a real file never raises anything else."""
    lines = MUSCAT.read_text(encoding="utf-8").splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        edit = data.draw(st.sampled_from(["drop", "dup", "garble", "swap"]))
        if edit == "drop":
            del lines[i]
        elif edit == "dup":
            lines.insert(i, lines[i])
        elif edit == "garble":
            lines[i] = data.draw(st.text(max_size=30))
        else:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        if not lines:
            break
    try:
        loads("\n".join(lines), "fuzz.toml")
    except ScenarioInvalid as error:
        assert error.message.startswith("fuzz.toml")


def test_deposit_steps_read_their_commitment_from_the_escrow_file() -> None:
    """A deposit step carries the named commitment of its escrow file, with the actions it
    names; a missing file or commitment is reported at the step's line."""
    deposits = [s.event for s in load(MUSCAT).steps if isinstance(s.event, ev.Deposit)]
    assert [e.deposit for e in deposits][:2] == ["iran-halving-if-ceasefire", "us-restraint-first"]
    carried = json.loads(deposits[0].commitment)
    assert [c["id"] for c in carried["commitments"]] == ["iran-halving-if-ceasefire"]
    assert {a["id"] for a in carried["actions"]} == {"iran.halve_attacks", "us.gaza_ceasefire"}
    step = '[[steps]]\nat = 2024-01-10T10:00:00+04:00\nactor = "a1"\naction = "deposit"\n'
    for tail, reason in [
        ('id = "x"\nfrom = "none.escrow.json"\n', "cannot read escrow file"),
        (f'id = "x"\nfrom = "{MUSCAT.with_name("muscat-2024.escrow.json")}"\n', "no commitment"),
    ]:
        text = MINIMAL + "\n" + step + tail
        with pytest.raises(ScenarioInvalid, match=reason) as caught:
            loads(text, str(MUSCAT))
        assert caught.value.line is not None and caught.value.line > line_of(text, "deposit")


def test_preference_steps_read_the_agenda_and_each_party_s_scores_from_a_problem_file() -> None:
    """A set_agenda step carries the problem file's issues; a submit_scores step its actor's
    party's entry, weights as 100 whole points, for the agenda's version at its place; a
    missing file is reported at the step's line."""
    scenario = load(MUSCAT.with_name("muscat-2024-preferences.toml"))
    events = [s.event for s in scenario.steps]
    (agenda, *_) = [e for e in events if isinstance(e, ev.SetAgenda)]
    assert json.loads(agenda.agenda)["issues"][0]["id"] == "gaza_ceasefire"
    scored = [e for e in events if isinstance(e, ev.SubmitScores)]
    us = json.loads(scored[1].scores)
    assert us["party"] == "us" and sum(us["points"].values()) == 100
    assert us["points"]["red_sea_attacks"] == 35 and scored[1].version == 1
    assert json.loads(scored[2].scores)["party"] == "iran"
    step = '[[steps]]\nat = 2024-01-10T10:00:00+04:00\nactor = "a1"\naction = "set_agenda"\n'
    text = MINIMAL + "\n" + step + 'from = "none.json"\n'
    with pytest.raises(ScenarioInvalid, match="cannot read problem file") as caught:
        loads(text, str(MUSCAT))
    assert caught.value.line is not None and caught.value.line > line_of(text, "set_agenda")
