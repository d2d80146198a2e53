"""``backchannel simulate``: JSON contract and exit codes, through the installed command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.test_scenario import MINIMAL, MUSCAT, line_of

KEYS = {"talks", "events", "rejections", "visibility", "initiator", "outcome", "text"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "backchannel", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_simulate_json_has_the_contract_keys() -> None:
    """--json prints one object with the documented keys; exit 0 when all is as written."""
    result = run("simulate", str(MUSCAT), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= KEYS
    event = data["events"][0]
    assert {"seq", "at", "actor", "action", "ok"} <= set(event)
    assert {"step", "code", "message"} <= set(data["rejections"][0])
    assert {"party", "member", "at", "via"} <= set(data["initiator"])
    assert "مطلب إيران" in result.stdout  # Arabic stays readable, not \u-escaped


def test_simulate_human_transcript_shows_arabic_and_refusals() -> None:
    """Without --json the transcript is readable text with the Arabic gist and the refusals."""
    result = run("simulate", str(MUSCAT))
    assert result.returncode == 0, result.stderr
    assert "relay.label_forbids" in result.stdout and "مطلب إيران" in result.stdout
    assert "Initiator:" in result.stdout
    assert "Article 1 Red Sea shipping: bracketed (version 1)" in result.stdout


def test_simulate_exit_1_when_a_step_misbehaves(tmp_path: Path) -> None:
    """A step that should have been refused but was not makes the run exit 1."""
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + 'expect_error = "mandate.insufficient"\n', encoding="utf-8")
    result = run("simulate", str(path), "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["outcome"]["as_written"] is False


def test_simulate_exit_2_names_file_and_line(tmp_path: Path) -> None:
    """An invalid file exits 2 with file:line and the reason, and prints no transcript."""
    path = tmp_path / "bad.toml"
    path.write_text(MINIMAL.replace('action = "send"', 'action = "shout"'), encoding="utf-8")
    result = run("simulate", str(path))
    assert result.returncode == 2
    line = line_of(MINIMAL, 'action = "send"')
    assert f"{path}:{line}:" in result.stderr and "shout" in result.stderr
    assert result.stdout == ""
    as_json = run("simulate", str(path), "--json")
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"]["code"] == "scenario.invalid"


def test_help_lists_simulate() -> None:
    """backchannel --help lists the commands."""
    result = run("--help")
    assert result.returncode == 0 and "simulate" in result.stdout


def test_db_without_through_host_is_refused() -> None:
    """``--db`` names the host's database: without ``--through-host`` it is an input error
    (exit 2), not silently ignored."""
    result = run("simulate", "scenarios/muscat-2024.toml", "--db", "sqlite:///ignored.db", "--json")
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "input.invalid" and "--through-host" in error["message"]
    assert not Path("ignored.db").exists()


def test_version() -> None:
    """``backchannel --version`` prints the installed version and exits 0."""
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("backchannel ")


def test_the_record_as_a_party_exports_the_deposits_a_match_opened(tmp_path: Path) -> None:
    """``--export-record --as us --with-content`` writes the US device's record of the
    reciprocal match: ``record verify`` opens Iran's deposit there, by its member, before the
    match; ``--as`` a party the scenario lacks, or without ``--export-record``, is exit 2."""
    path = tmp_path / "us.json"
    reciprocal = str(MUSCAT.with_name("muscat-2024-reciprocal.toml"))
    made = run("simulate", reciprocal, "--export-record", str(path), "--as", "us", "--with-content")
    assert made.returncode == 0, made.stderr
    verified = run("record", "verify", str(path), "--json")
    assert verified.returncode == 0, verified.stdout
    timeline = json.loads(verified.stdout)["timeline"]
    acts = [(a["action"], a["actor"]) for a in timeline if a["action"] != "join"]
    assert ("deposit", "bagheri") in acts and ("deposit", "mcgurk") in acts
    assert acts.index(("deposit", "bagheri")) < acts.index(("announce_match", "oman-envoy"))
    stranger = run("simulate", reciprocal, "--export-record", str(path), "--as", "qatar", "--json")
    assert stranger.returncode == 2 and "qatar" in json.loads(stranger.stdout)["error"]["message"]
    alone = run("simulate", reciprocal, "--as", "us", "--json")
    assert (
        alone.returncode == 2 and "--export-record" in json.loads(alone.stdout)["error"]["message"]
    )
