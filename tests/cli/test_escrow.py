"""The escrow by CLI through a real host: three profiles, each test in talks of its own.

Iran and the US deposit their Muscat commitments from the scenario's escrow file; each device
lists what it may (its own party's deposits, the others' as counts; the mediator, all); the
mediator's ``escrow match`` finds no match in Muscat and announces one in the reciprocal variant.
Refusals are the engine's codes and exit 2, and change nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backchannel.cli import app
from backchannel.client.simulation import temporary_host
from tests.cli.test_rooms import PASSPHRASE, Person
from tests.test_scenario import MUSCAT

ESCROW = MUSCAT.with_name("muscat-2024.escrow.json")
RECIPROCAL = MUSCAT.with_name("muscat-2024-reciprocal.escrow.json")
IRAN = "iran-halving-if-ceasefire"
US = "us-restraint-first"
US_RECIPROCAL = "us-ceasefire-if-halving"
#: Words of Iran's Muscat commitment only (its description and the action only it names).
IRAN_WORDS = ("does not control these groups", "iran.halve_attacks", "reduction_pct")
runner = CliRunner()


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Person]]:
    scratch = tmp_path_factory.mktemp("escrow")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        found = {name: Person(scratch / name) for name in ("oman", "us", "iran")}
        for name, person in found.items():
            person("profile", "create", "--host", url, "--name", name, "--kdf", "interactive")
        yield found


def convene(people: dict[str, Person]) -> str:
    """New talks of this test's own: Oman mediates, the US and Iran join holding 'propose'."""
    alias = f"escrow-{secrets.token_hex(3)}"
    oman = people["oman"]
    oman("talks", "create", alias, "--party", "oman", "--member", "envoy", "--mediator")
    for party, member in (("us", "mcgurk"), ("iran", "bagheri")):
        code = oman("talks", "invite", alias, "--party", party)["invite"]
        people[party](
            "talks", "join", code, "--as", alias, "--member", member, "--level", "propose",
            "--party-name", {"us": "United States", "iran": "Iran"}[party],
            "--member-name", {"us": "Brett McGurk", "iran": "Ali Bagheri Kani"}[party],
        )  # fmt: skip
    for person in people.values():
        person("talks", "list")
    return alias


def human(person: Person, *args: str, code: int = 0) -> str:
    """What a command prints without ``--json`` (stdout and stderr)."""
    result = runner.invoke(
        app,
        [*args, "--profile", str(person.directory)],
        env={"BACKCHANNEL_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == code, result.output
    return result.output


def refused(person: Person, *args: str) -> dict[str, Any]:
    """The error a refused command prints with ``--json`` (exit 2)."""
    error: dict[str, Any] = person(*args, code=2)["error"]
    return error


def deposit_muscat(people: dict[str, Person], alias: str) -> None:
    people["iran"]("escrow", "deposit", alias, str(ESCROW), "--id", IRAN)
    people["us"]("escrow", "deposit", alias, str(ESCROW), "--id", US)
    for person in people.values():
        person("talks", "list")


def test_each_device_lists_what_it_may_and_no_more(people: dict[str, Person]) -> None:
    """The US lists its own deposit in full (by whom, by name) and Iran's as a count, with no
    word of Iran's commitment; Oman lists both; a human listing names the member."""
    alias = convene(people)
    deposit_muscat(people, alias)
    us = people["us"]("escrow", "list", alias)
    assert [d["id"] for d in us["deposits"]] == [US]
    (mine,) = us["deposits"]
    assert (mine["status"], mine["version"]) == ("open", 1)
    assert mine["member"] == {"id": "mcgurk", "name": "Brett McGurk", "names": {}}
    assert mine["commitment"]["requires"] == "iran.restrain_groups"
    assert us["sealed"] == {"iran": 1, "oman": 0} and us["matches"] == []
    text = json.dumps(us, ensure_ascii=False)
    assert not [w for w in IRAN_WORDS if w in text]
    oman = people["oman"]("escrow", "list", alias)
    assert oman["mediating"] and {d["id"] for d in oman["deposits"]} == {IRAN, US}
    assert oman["sealed"] == {"us": 1, "iran": 1, "oman": 0}
    printed = human(people["us"], "escrow", "list", alias)
    assert US in printed and "Brett McGurk" in printed and "Iran: 1" in printed
    assert not [w for w in IRAN_WORDS if w in printed]


def test_muscat_has_no_match_and_nothing_is_announced(people: dict[str, Person]) -> None:
    """The mediator's match over Muscat is "no match", with the deadlock, and exits 0."""
    alias = convene(people)
    deposit_muscat(people, alias)
    result = people["oman"]("escrow", "match", alias)
    assert result["matched"] is False and result["match"] is None
    assert "Each side's step waits on the other's" in result["deadlock"]
    printed = human(people["oman"], "escrow", "match", alias)
    assert "No match" in printed
    for person in people.values():
        assert person("escrow", "list", alias)["matches"] == []


def test_the_reciprocal_pair_matches_and_each_side_sees_the_plan(
    people: dict[str, Person],
) -> None:
    """The reciprocal pair: the mediator announces it; each party lists the match with both
    commitments revealed, one simultaneous stage verified by Oman, the reduction settled at 75."""
    alias = convene(people)
    people["iran"]("escrow", "deposit", alias, str(RECIPROCAL), "--id", IRAN)
    people["us"]("escrow", "deposit", alias, str(RECIPROCAL), "--id", US_RECIPROCAL)
    people["oman"]("talks", "list")
    result = people["oman"]("escrow", "match", alias, "--id", "m-reciprocal")
    assert result["matched"] is True
    assert result["match"]["plan"] == [
        {
            "actions": ["iran.halve_attacks", "us.gaza_ceasefire"],
            "simultaneous": True,
            "verified_by": "oman",
        }
    ]
    for name in ("us", "iran"):
        (found,) = people[name]("escrow", "list", alias)["matches"]
        assert found["id"] == "m-reciprocal" and found["settled"][0]["value"] == 75
        assert {c["id"] for c in found["commitments"]} == {IRAN, US_RECIPROCAL}
    printed = human(people["us"], "escrow", "list", alias)
    assert "stage 1 (simultaneous, verified by oman)" in printed


def test_amend_and_withdraw_ones_own(people: dict[str, Person]) -> None:
    """The US amends its deposit (version 2, the mediator sees it) and withdraws it; Iran's
    count follows without ever holding it."""
    alias = convene(people)
    deposit_muscat(people, alias)
    amended = people["us"]("escrow", "amend", alias, str(RECIPROCAL), "--id", US, code=2)
    assert amended["error"]["code"] == "escrow.malformed"  # no such commitment in that file
    done = people["us"]("escrow", "amend", alias, str(ESCROW), "--id", US)
    assert done["version"] == 2
    people["oman"]("talks", "list")
    (held,) = [d for d in people["oman"]("escrow", "list", alias)["deposits"] if d["id"] == US]
    assert held["version"] == 2
    printed = human(people["us"], "escrow", "withdraw", alias, US)
    assert f"Withdrawn: {US} of United States (version 2, withdrawn)." in printed
    assert people["iran"]("escrow", "list", alias)["sealed"]["us"] == 0


def test_refusals_are_the_engines_and_change_nothing(
    people: dict[str, Person], tmp_path: Path
) -> None:
    """The US may not withdraw Iran's deposit (escrow.not_own) nor match (escrow.not_mediator),
    nor deposit Iran's commitment as its own, nor one the file lacks (escrow.malformed); each
    exits 2 with the engine's sentence and the escrow is as it was."""
    alias = convene(people)
    deposit_muscat(people, alias)
    before = people["us"]("escrow", "list", alias)
    us = people["us"]
    assert refused(us, "escrow", "withdraw", alias, IRAN)["code"] == "escrow.not_own"
    assert refused(us, "escrow", "match", alias)["code"] == "escrow.not_mediator"
    own = refused(us, "escrow", "deposit", alias, str(ESCROW), "--id", "x-missing")
    assert own["code"] == "escrow.malformed" and "x-missing" in own["message"]
    data = json.loads(ESCROW.read_text(encoding="utf-8"))
    for commitment in data["commitments"]:
        commitment["id"] = "fresh-" + commitment["id"]
    other = tmp_path / "fresh.escrow.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    theirs = refused(us, "escrow", "deposit", alias, str(other), "--id", "fresh-" + IRAN)
    assert theirs["code"] == "escrow.malformed" and "iran" in theirs["message"]
    broken = ESCROW.with_name("no-such.escrow.json")
    assert refused(us, "escrow", "deposit", alias, str(broken), "--id", US)["code"] == (
        "input.invalid"
    )
    printed = human(us, "escrow", "withdraw", alias, IRAN, code=2)
    assert "escrow.not_own" in printed
    people["oman"]("talks", "list")
    assert people["us"]("escrow", "list", alias) == before
    assert len(people["oman"]("escrow", "list", alias)["deposits"]) == 2


def test_escrow_help_lists_its_commands() -> None:
    """``backchannel escrow --help`` names every escrow command; ``match FILE`` stays."""
    result = runner.invoke(app, ["escrow", "--help"])
    assert result.exit_code == 0
    for command in ("deposit", "amend", "withdraw", "list", "match"):
        assert command in result.output
    assert runner.invoke(app, ["match", "--help"]).exit_code == 0
