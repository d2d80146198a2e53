"""``backchannel prefs``: three profiles, one real host. Oman sets the agenda, the US and Iran
score it on their own devices, Oman analyses and puts the Nash package to the US as an offer;
nobody else's scores reach a party's device or the host's database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backchannel.cli import app
from backchannel.client.profile import Profile
from backchannel.client.simulation import temporary_host
from tests.cli.test_rooms import PASSPHRASE, Person, runner

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
PROBLEM = SCENARIOS / "muscat-2024.preferences.json"
#: Iran's private note: a canary for Iran's scores.
SEALED = "zq9sealed-cli-iran-note"


@dataclass
class World:
    people: dict[str, Person]
    db: Path
    files: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Oman convenes and sets the agenda; the US and Iran join with 'propose'; Iran scores
    from the problem file (with a private note), the US with --points and --value."""
    scratch = tmp_path_factory.mktemp("prefs")
    db = scratch / "host.db"
    with temporary_host(f"sqlite:///{db}") as url:
        people = {name: Person(scratch / name) for name in ("oman", "us", "iran")}
        for name, person in people.items():
            person("profile", "create", "--host", url, "--name", name, "--kdf", "interactive")
        oman, us, iran = people["oman"], people["us"], people["iran"]
        oman("talks", "create", "muscat", "--party", "oman", "--member", "envoy", "--mediator")
        for party, person, member in (("us", us, "mcgurk"), ("iran", iran, "bagheri")):
            code = oman("talks", "invite", "muscat", "--party", party)["invite"]
            person("talks", "join", code, "--member", member, "--level", "propose")
        for person in people.values():
            person("talks", "list")
        oman("room", "create", "muscat", "us-caucus", "--kind", "caucus", "--party", "us")
        us("room", "join", "muscat", "us-caucus")
        files = scratch / "files"
        files.mkdir()
        set_ = oman("prefs", "agenda", "muscat", str(PROBLEM))
        assert set_["agenda"]["version"] == 1
        for person in (us, iran):
            person("talks", "list")
        problem = json.loads(PROBLEM.read_text(encoding="utf-8"))
        problem["parties"][1]["note"] = SEALED
        (files / "iran.json").write_text(json.dumps(problem), encoding="utf-8")
        iran("prefs", "score", "muscat", str(files / "iran.json"))
        us_entry = problem["parties"][0]
        options = [
            f"--value={issue}/{option}={value}"
            for issue, per in us_entry["values"].items()
            for option, value in per.items()
        ]
        points = [f"--points={i}={round(w * 100)}" for i, w in us_entry["weights"].items()]
        us("prefs", "score", "muscat", *points, *options, "--reservation", "45")
        oman("talks", "list")
        yield World(people, db, files)


def test_every_device_knows_who_scored_and_only_its_own_scores(world: World) -> None:
    """``prefs show``: both parties scored, on every device; Iran's device shows Iran's scores
    (its note too), the US's only its own: no byte of Iran's note."""
    iran = world.people["iran"]("prefs", "show", "muscat")
    us = world.people["us"]("prefs", "show", "muscat")
    oman = world.people["oman"]("prefs", "show", "muscat")
    for shown in (iran, us, oman):
        assert shown["submitted"] == {"us": True, "iran": True}
    assert iran["mine"]["note"] == SEALED and iran["mine"]["points"]["gaza_ceasefire"] == 50
    assert us["mine"]["points"]["red_sea_attacks"] == 35 and us["mine"]["reservation"] == 45
    assert SEALED not in json.dumps(us) and oman["mediator"] and oman["mine"] is None


def test_the_mediator_analyses_and_a_party_may_not(world: World, tmp_path: Path) -> None:
    """``prefs analyze`` on Oman's device: the Nash and Kalai–Smorodinsky packages of the two
    scorings, a plot; on a party's device: refused with prefs.not_mediator, exit 2."""
    plot = tmp_path / "frontier.svg"
    found = world.people["oman"]("prefs", "analyze", "muscat", "--plot", str(plot))
    assert found["parties"] == ["us", "iran"] and found["submitted"]["iran"]
    assert found["nash"]["package"]["sequencing"] == "simultaneous"
    assert found["adjusted_winner"]["method"] == "adjusted-winner"
    assert plot.read_bytes().startswith(b"<?xml")
    refused = world.people["us"]("prefs", "analyze", "muscat", code=2)
    assert refused["error"]["code"] == "prefs.not_mediator"


def test_own_utility_for_a_package(world: World) -> None:
    """``prefs show --package``: the party's own utility for it, from its own scores."""
    package = (
        "gaza_ceasefire=full,red_sea_attacks=stopped,bases_iraq_syria=stopped,"
        "sequencing=simultaneous"
    )
    us = world.people["us"]("prefs", "show", "muscat", "--package", package)
    assert us["utility"] == pytest.approx(84.0)
    bad = world.people["us"]("prefs", "show", "muscat", "--package", "oil=none", code=2)
    assert bad["error"]["code"] == "analysis.invalid"


def test_the_mediator_puts_the_nash_package_as_an_offer(world: World) -> None:
    """``prefs offer ROOM nash``: an offer in the US caucus naming every issue and option of
    the Nash package; the US reads it as an offer."""
    made = world.people["oman"](
        "prefs", "offer", "muscat", "us-caucus", "nash", "--label", "carry-verbatim"
    )
    assert "Ceasefire in Gaza: full" in made["text"]
    read = world.people["us"]("read", "muscat", "--room", "us-caucus")
    (offer,) = [m for m in read["messages"] if m["id"] == made["proposal"]]
    assert offer["proposal"] and offer["text"] == made["text"]


def test_bad_scores_and_agendas_exit_2_with_their_code(world: World) -> None:
    """Points not summing to 100, an unknown issue, a value out of range, another party's
    scores, a party's agenda: each exits 2 with the engine's code and sends nothing."""
    us = world.people["us"]
    for args, code in [
        ([str(PROBLEM), "--points", "gaza_ceasefire=99"], "prefs.malformed"),
        (["--points", "oil=10"], "prefs.malformed"),
        (["--value", "gaza_ceasefire/none=101"], "prefs.malformed"),
        (["--points", "gaza_ceasefire"], "prefs.malformed"),
    ]:
        refused = us("prefs", "score", "muscat", *args, code=2)
        assert refused["error"]["code"] == code, args
        if args[0] == str(PROBLEM):
            assert "sum to 100, not 189" in refused["error"]["message"]
    theirs = world.files / "theirs.json"
    iran = json.loads(PROBLEM.read_text(encoding="utf-8"))["parties"][1]
    points = {i: round(w * 100) for i, w in iran["weights"].items()}
    theirs.write_text(json.dumps({"party": "iran", "points": points, "values": iran["values"]}))
    refused = us("prefs", "score", "muscat", str(theirs), code=2)
    assert refused["error"]["code"] == "prefs.not_own"
    refused = us("prefs", "agenda", "muscat", str(PROBLEM), code=2)
    assert refused["error"]["code"] == "prefs.not_mediator"
    shown = us("prefs", "show", "muscat")
    assert shown["mine"]["count"] == 1 and shown["agenda"]["version"] == 1


def test_no_byte_of_iran_s_scores_in_the_us_store_or_the_host(world: World) -> None:
    """Iran's note, decrypted: in Iran's and Oman's device stores only, never the US's; and in
    no file of the host's database."""
    holders = set()
    for name, person in world.people.items():
        profile = Profile.open(person.directory, PASSPHRASE)
        try:
            stored = json.dumps(profile.participant("muscat").snapshot(), ensure_ascii=False)
        finally:
            profile.close()
        if SEALED in stored:
            holders.add(name)
    assert holders == {"iran", "oman"}
    scanned = b"".join(
        p.read_bytes() for p in world.db.parent.iterdir() if p.name.startswith("host.db")
    )
    assert len(scanned) > 10_000 and SEALED.encode() not in scanned


def test_human_output_names_the_parties_and_the_packages(world: World) -> None:
    """Without --json: ``prefs show`` says who scored by name and the party's own scores;
    ``prefs analyze`` names the Nash package; a refusal is the code and sentence on stderr."""

    def human(person: Person, *args: str) -> tuple[int, str, str]:
        env = {"BACKCHANNEL_PASSPHRASE": PASSPHRASE, "COLUMNS": "200"}
        result = runner.invoke(app, [*args, "--profile", str(person.directory)], env=env)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = human(world.people["us"], "prefs", "show", "muscat")
    assert code == 0 and "iran: scored" in out and "Your party's scores" in out
    assert "Attacks on Red Sea shipping" in out and SEALED not in out
    code, out, _ = human(world.people["oman"], "prefs", "analyze", "muscat")
    assert code == 0 and "Nash" in out and "sequencing=simultaneous" in out
    code, _, err = human(world.people["iran"], "prefs", "analyze", "muscat")
    assert code == 2 and "prefs.not_mediator" in err
