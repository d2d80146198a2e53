"""Three people, three profiles, one host: talks, invites, rooms, sends, relays and reads by CLI.

Every command runs the real CLI against a real host on 127.0.0.1 with real keys and encryption;
profiles live in real directories, encrypted. The SAS test runs two CLI processes at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backchannel.cli import app
from backchannel.client.profile import Profile
from backchannel.client.simulation import temporary_host

PASSPHRASE = "correct horse battery staple"
SECRET_WORDS = "Iran will not present this as a concession"
GIST_SOURCE = "Our demand of the United States is a ceasefire in Gaza"
GIST = "Iran's central demand is a ceasefire in Gaza"

runner = CliRunner()


@dataclass
class Person:
    """A profile directory and the CLI run as its owner."""

    directory: Path

    def __call__(self, *args: str, code: int = 0) -> dict[str, Any]:
        result = runner.invoke(
            app,
            [*args, "--profile", str(self.directory), "--json"],
            env={"BACKCHANNEL_PASSPHRASE": PASSPHRASE},
        )
        assert result.exit_code == code, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    scratch = tmp_path_factory.mktemp("host")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        yield url


@pytest.fixture(scope="module")
def muscat(host: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Person]:
    """Oman convenes; the US and Iran join by invite; caucus rooms; Iran speaks; Oman carries."""
    root = tmp_path_factory.mktemp("profiles")
    people = {name: Person(root / name) for name in ("oman", "us", "iran")}
    for name, person in people.items():
        person("profile", "create", "--host", host, "--name", name, "--kdf", "interactive")
    oman, us, iran = people["oman"], people["us"], people["iran"]
    oman("talks", "create", "muscat", "--party", "oman", "--member", "envoy", "--mediator")
    for party, person, member in (("us", us, "mcgurk"), ("iran", iran, "bagheri")):
        code = oman("talks", "invite", "muscat", "--party", party)["invite"]
        joined = person("talks", "join", code, "--member", member, "--level", "propose")
        assert joined["sponsor_fingerprint"] == oman("profile", "show")["identity_fingerprint"]
    for person in people.values():
        person("talks", "list")  # sync: introductions and declarations travel
    for party in ("us", "iran"):
        oman("room", "create", "muscat", f"{party}-caucus", "--kind", "caucus", "--party", party)
    us("room", "join", "muscat", "us-caucus")
    iran("room", "join", "muscat", "iran-caucus")
    iran("send", "muscat", "iran-caucus", SECRET_WORDS, "--label", "mediator-only", "--id", "aside")
    iran("send", "muscat", "iran-caucus", GIST_SOURCE, "--label", "carry-gist", "--id", "demand")
    oman("relay", "muscat", "demand", "us-caucus", "--mode", "gist", "--text", GIST, "--id", "g1")
    return people


def test_every_device_knows_every_party_member_and_device(muscat: dict[str, Person]) -> None:
    """After the invites, each profile lists the three parties and the two other devices."""
    for person in muscat.values():
        (talks,) = person("talks", "list")["talks"]
        assert talks["parties"] == ["iran", "oman", "us"]
        assert talks["members"] == ["bagheri", "envoy", "mcgurk"]
        assert len(talks["devices"]) == 2
        assert talks["dropped"] == []


def test_the_other_party_reads_the_gist_and_never_the_source(muscat: dict[str, Person]) -> None:
    """The US reads the mediator's gist, unlinked to its source; nothing Iran said reaches it."""
    read = muscat["us"]("read", "muscat")
    texts = json.dumps(read, ensure_ascii=False)
    assert [m["text"] for m in read["messages"]] == [GIST]
    assert read["messages"][0]["source"] is None
    assert read["messages"][0]["relay"] == "gist"
    assert GIST_SOURCE not in texts and SECRET_WORDS not in texts


def test_the_mediator_and_the_author_read_what_they_should(muscat: dict[str, Person]) -> None:
    """Iran reads its own two messages only; Oman reads both and its relay."""
    iran = [m["id"] for m in muscat["iran"]("read", "muscat")["messages"]]
    oman = [m["id"] for m in muscat["oman"]("read", "muscat")["messages"]]
    assert iran == ["aside", "demand"]
    assert oman == ["aside", "demand", "g1"]


def test_relaying_a_mediator_only_message_is_refused_and_sends_nothing(
    muscat: dict[str, Person],
) -> None:
    """The mediator's own engine refuses it (exit 2, the rule's code); the US receives nothing."""
    refused = muscat["oman"](
        "relay", "muscat", "aside", "us-caucus", "--mode", "gist", "--text", "x", code=2
    )
    assert refused["error"]["code"] == "relay.label_forbids"
    assert len(muscat["us"]("read", "muscat")["messages"]) == 1


def test_an_action_beyond_the_engine_rules_is_refused_with_its_code(
    muscat: dict[str, Person],
) -> None:
    """A member cannot send into the other party's caucus — its device does not even know the
    room exists: refused on the device, exit 2, nothing sent."""
    refused = muscat["us"](
        "send", "muscat", "iran-caucus", "hello", "--label", "carry-gist", code=2
    )
    assert refused["error"]["code"] == "entity.unknown"


def test_the_local_cache_holds_no_plaintext(muscat: dict[str, Person]) -> None:
    """Every file of every profile is free of the words, room names and party names."""
    canaries = [SECRET_WORDS, GIST_SOURCE, GIST, "iran-caucus", "bagheri", "mcgurk", "muscat"]
    for person in muscat.values():
        for path in person.directory.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(c.encode() in data for c in canaries), path
                assert path.stat().st_mode & 0o077 == 0, path


def test_sas_codes_match_on_both_devices(muscat: dict[str, Person], host: str) -> None:
    """Both people run verify-device at once; both see the same short codes; both are verified."""
    env = {**os.environ, "BACKCHANNEL_PASSPHRASE": PASSPHRASE}

    def start(person: Person, peer: str) -> subprocess.Popen[str]:
        args = ["verify-device", "muscat", peer, "--yes", "--json", "--timeout", "60"]
        return subprocess.Popen(
            [sys.executable, "-m", "backchannel", *args, "--profile", str(person.directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    first, second = start(muscat["oman"], "us"), start(muscat["us"], "oman")
    outputs = [json.loads(p.communicate(timeout=90)[0]) for p in (first, second)]
    assert outputs[0]["decimals"] == outputs[1]["decimals"]
    assert outputs[0]["emoji"] == outputs[1]["emoji"]
    assert outputs[0]["mine"] == outputs[1]["theirs"]
    (talks,) = muscat["us"]("talks", "list")["talks"]
    assert [d["verified"] for d in talks["devices"] if d["party"] == "oman"] == [True]


def test_an_invite_is_single_use(muscat: dict[str, Person], tmp_path: Path, host: str) -> None:
    """A second device using a spent invite is refused by the host."""
    code = muscat["oman"]("talks", "invite", "muscat", "--party", "un")["invite"]
    late = Person(tmp_path / "late")
    late("profile", "create", "--host", host, "--kdf", "interactive")
    late("talks", "join", code, "--member", "guterres")
    later = Person(tmp_path / "later")
    later("profile", "create", "--host", host, "--kdf", "interactive")
    refused = later("talks", "join", code, "--member", "other", code=2)  # bad input, as every other
    assert refused["error"]["code"] == "invite.invalid"


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (lambda s: s[:-10], "invite.malformed"),
        (lambda s: "xx" + s, "invite.malformed"),
        (lambda s: s.replace("bc1:", "bc1:A", 1), "invite.malformed"),
    ],
)
def test_a_damaged_invite_is_refused_and_changes_nothing(
    muscat: dict[str, Person], tmp_path: Path, host: str, damage: Any, code: str
) -> None:
    """A cut, prefixed or shifted invite string: invite.malformed, and no talks joined."""
    invite = muscat["oman"]("talks", "invite", "muscat", "--party", "eu")["invite"]
    person = Person(tmp_path / "eu")
    person("profile", "create", "--host", host, "--kdf", "interactive")
    refused = person("talks", "join", damage(invite), "--member", "borrell", code=2)
    assert refused["error"]["code"] == code
    assert person("talks", "list")["talks"] == []


def test_profile_errors_have_codes(muscat: dict[str, Person], tmp_path: Path, host: str) -> None:
    """Existing profile, missing profile, unknown talks, wrong passphrase: each its own code."""
    oman = muscat["oman"]
    exists = oman("profile", "create", "--host", host, "--kdf", "interactive", code=2)
    assert exists["error"]["code"] == "profile.exists"
    missing = Person(tmp_path / "nobody")("profile", "show", code=2)
    assert missing["error"]["code"] == "profile.missing"
    unknown = oman("read", "geneva", code=2)
    assert unknown["error"]["code"] == "talks.unknown"
    result = runner.invoke(
        app,
        ["profile", "show", "--profile", str(oman.directory), "--json"],
        env={"BACKCHANNEL_PASSPHRASE": "wrong passphrase"},
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "keystore.bad_passphrase"


def test_every_device_proves_its_events_in_the_record(muscat: dict[str, Person]) -> None:
    """record status: each device verified every event it holds against the signed checkpoint,
    posted a cosigned one, and raised no alarm."""
    for person in muscat.values():
        status = person("record", "status", "muscat", "--post")
        assert status["alarms"] == []
        assert status["tree_size"] > 0
        assert status["verified_events"] == status["held_events"] > 0
        assert status["posted_size"] == status["tree_size"]
    for person in muscat.values():
        assert person("record", "status", "muscat")["alarms"] == []


def test_the_record_names_who_asked_first_from_an_exported_file(
    muscat: dict[str, Person], tmp_path: Path
) -> None:
    """Iran asks the US through Oman; the US asks back; Oman's exported bundle, verified offline
    by a process that holds no profile, names Iran's member, and any edit to it fails."""
    muscat["iran"]("contact", "muscat", "--to", "us", "--via", "oman", "--id", "ask-1")
    muscat["us"]("contact", "muscat", "--to", "iran", "--via", "oman", "--id", "ask-2")
    timeline = muscat["oman"]("record", "timeline", "muscat")
    assert timeline["initiator"]["member"] == "bagheri"
    assert timeline["initiator"]["via"] == "oman"
    out = tmp_path / "muscat.bcrecord"
    exported = muscat["oman"]("record", "export", "muscat", "--out", str(out))
    assert exported["entries"] >= exported["opened"] > 0
    assert not any(w.encode() in out.read_bytes() for w in (SECRET_WORDS, GIST_SOURCE, GIST))
    offline = runner.invoke(app, ["record", "verify", str(out), "--json"])
    assert offline.exit_code == 0, offline.output
    verified = json.loads(offline.stdout)
    assert verified["initiator"] == timeline["initiator"]
    grants = [a for a in verified["timeline"] if a["action"] == "grant"]
    assert grants and all(a["mandate"] in ("root", None) or a["mandate"] for a in grants)
    edited = out.read_bytes().replace(b'"ask-1"', b'"ask-9"')
    out.write_bytes(edited)
    refused = runner.invoke(app, ["record", "verify", str(out), "--json"])
    assert refused.exit_code == 1
    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "record.bundle_invalid"
    assert "entry" in error["message"]


def test_names_in_other_languages_are_lang_equals_text(host: str, tmp_path: Path) -> None:
    """``--title-in`` / ``--party-name-in`` / ``--name-in`` take LANG=TEXT; anything else is a
    usage error (exit 2) naming the option, and nothing is created."""
    person = Person(tmp_path / "oman")
    person("profile", "create", "--host", host, "--kdf", "interactive")
    env = {"BACKCHANNEL_PASSPHRASE": PASSPHRASE, "BACKCHANNEL_PROFILE": str(person.directory)}
    for bad, why in (("arabic", "LANG=TEXT"), ("AR=عُمان", "not a language tag"), ("ar=", "empty")):
        result = runner.invoke(
            app,
            ["talks", "create", "t", "--party", "oman", "--title-in", bad],
            env=env,
        )
        assert result.exit_code == 2, result.output
        assert "--title-in" in result.output and why in result.output
    person("talks", "create", "t", "--party", "oman", "--party-name-in", "ar=سلطنة عُمان")
    room = ["room", "create", "t", "r", "--kind", "delegation", "--party", "oman"]
    person(*room, "--name-in", "fa=اتاق")
    with Profile.open(person.directory, PASSPHRASE) as profile:
        view = profile.talks["t"].view
        assert view.parties["oman"].names.in_lang("ar", "") == "سلطنة عُمان"
        assert view.rooms["r"].names.in_lang("fa", "") == "اتاق"
