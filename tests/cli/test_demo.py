"""``backchannel demo`` (what ``make run`` starts): a host, the Muscat talks, three web apps."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
MUSCAT = ROOT / "scenarios" / "muscat-2024.toml"
IRAN_ASIDE = "للوسيط العُماني فقط"  # Iran's mediator-only words in the Muscat scenario
US_DEMAND = "The United States asks Iran to rein in the groups it backs"
DEMO = (sys.executable, "-m", "backchannel", "demo", str(MUSCAT))


def _first_json(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The JSON document the demo prints once everything is up (it then keeps running)."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if line.rstrip("\n") == "}":
            break
    assert lines, process.stderr.read() if process.stderr else "no output"
    data: dict[str, Any] = json.loads("".join(lines))
    return data


def _state(url: str) -> dict[str, Any]:
    """The app's state, read as its page does: the address's token sent as a header."""
    base, _, token = url.partition("/?token=")
    with httpx.Client(timeout=30) as client:
        client.get(url).raise_for_status()  # the page itself
        headers = {"authorization": f"Bearer {token}"}
        data: dict[str, Any] = (
            client.get(base + "/api/state", headers=headers).raise_for_status().json()
        )
        return data


def test_the_demo_serves_three_apps_over_the_muscat_talks(tmp_path: Path) -> None:
    """Three apps over the Muscat talks; the left-out step named; the US back in its caucus;
    each message with the scenario's time beside its own; a command line that works."""
    directory = tmp_path / "demo"
    with subprocess.Popen(
        [*DEMO, "--dir", str(directory), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            shown = _look(process, directory)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
    assert process.returncode == 0
    # Once the demo stopped, the command it printed reads a delegation's talks from the shell.
    command = [*shlex.split(shown["cli"]), "--json"]
    assert command[1:3] == ["read", "muscat-2024"]
    done = subprocess.run(
        [sys.executable, "-m", "backchannel", *command[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert US_DEMAND in done.stdout
    assert "showing what this device already holds" in done.stderr  # the host stopped with it


def _look(process: subprocess.Popen[str], directory: Path) -> dict[str, Any]:
    """What the running demo printed and serves."""
    shown = _first_json(process)
    assert set(shown["apps"]) == {"oman", "us", "iran"}
    assert shown["members"] == {"oman": "oman-envoy", "us": "mcgurk", "iran": "bagheri"}
    assert all(url.startswith("http://127.0.0.1:") for url in shown["apps"].values())
    assert (directory / "passphrase").stat().st_mode & 0o777 == 0o600
    states = {party: _state(url) for party, url in shown["apps"].items()}
    texts = {
        party: " ".join(
            m["text"] for t in state["talks"] for r in t["rooms"] for m in r["messages"]
        )
        for party, state in states.items()
    }
    (oman,) = states["oman"]["talks"]
    assert oman["role"] == "mediator" and oman["title"].startswith("Muscat")
    # The scenario's Arabic and Persian names travel with the replay, to every party's state.
    for state in states.values():
        (talks,) = state["talks"]
        assert talks["title_names"]["ar"].startswith("محادثات مسقط")
        parties = {p["id"]: p["names"] for p in talks["parties"]}
        assert parties["oman"] == {"ar": "سلطنة عُمان", "fa": "عمان"}
        assert parties["iran"]["ar"] == "إيران" and parties["us"]["fa"] == "ایالات متحده"
        members = {m["id"]: m for m in talks["members"]}
        assert members["bagheri"]["names"]["ar"] == "علي باقري كني"
        assert members["bagheri"]["name"].startswith("Ali Bagheri Kani")
    (iran,) = states["iran"]["talks"]
    rooms = {r["id"]: r["names"] for r in iran["rooms"]}
    assert rooms["iran-caucus"]["fa"] == "اتاق ایران، با عمان"
    # What Oman carried verbatim reached Iran; what Iran said for Oman alone reached nobody.
    assert US_DEMAND in texts["iran"]
    assert IRAN_ASIDE in texts["oman"]
    assert IRAN_ASIDE not in texts["us"]
    with httpx.Client(timeout=30) as bare:  # without the token, the app shows nothing
        assert bare.get(shown["apps"]["us"].split("/?", 1)[0] + "/api/state").status_code == 403
    # What was left out is named, with why; the US member who left its caucus joined it again.
    assert [s["what"] for s in shown["skipped"]] == [
        "set-up: us-notetaker join us-notetaker ↔ us-caucus",
        "set-up: us-notetaker join us-notetaker ↔ us-delegation",
    ]
    assert {s["why"] for s in shown["skipped"]} == {"us-notetaker has no device in the demo"}
    assert shown["rejoined"] == ["mcgurk ↔ us-caucus"]
    (us,) = states["us"]["talks"]
    (caucus,) = [r for r in us["rooms"] if r["id"] == "us-caucus"]
    assert "mcgurk" in caucus["members"]
    # Each replayed message keeps the scenario's time (January 2024) beside the time it was sent.
    (demand,) = [m for m in caucus["messages"] if m["id"] == "us-demand"]
    assert demand["scenario_at"] == "2024-01-10T10:00:00+04:00"
    assert not demand["at"].startswith("2024")
    (contact,) = oman["contacts"]
    assert contact["scenario_at"].startswith("2024-01-05")
    return shown


def test_the_demo_never_overwrites_a_directory(tmp_path: Path) -> None:
    """A directory that holds anything is refused (exit 2), and left as it was."""
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    done = subprocess.run(
        [*DEMO, "--dir", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["code"] == "input.invalid"
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"
