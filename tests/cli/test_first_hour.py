"""What a new user meets in the first hour: joining without a profile, invite codes in the shell,
rooms their creator is in, cautions before an act that reaches nobody, passphrase errors.

Real CLI, real host on 127.0.0.1, real encrypted profiles; the passphrase prompts run in a real
pseudo-terminal.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backchannel.cli import app
from backchannel.client.simulation import temporary_host
from tests.cli.test_rooms import PASSPHRASE, Person

runner = CliRunner()
ENV = {"BACKCHANNEL_PASSPHRASE": PASSPHRASE}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    scratch = tmp_path_factory.mktemp("host")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        yield url


def human(*args: str) -> tuple[int, str, str]:
    """Run the CLI without --json: exit code, stdout, stderr."""
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def test_join_without_a_profile_creates_it_on_the_invites_host(host: str, tmp_path: Path) -> None:
    oman = Person(tmp_path / "oman")
    oman("profile", "create", "--host", host, "--kdf", "interactive")
    oman("talks", "create", "t", "--party", "oman", "--member", "envoy", "--mediator")
    # The human output: the code alone on stdout, the guidance on stderr.
    code, out, err = human(
        "talks", "invite", "t", "--party", "iran", "--profile", str(oman.directory)
    )
    assert code == 0 and out.startswith("bc1:") and out.count("\n") == 1
    assert "fingerprint" in err and "bc1:" not in err
    invite = out.strip()
    iran = tmp_path / "iran"
    code, out, err = human(
        "talks", "join", invite, "--profile", str(iran), "--name", "Iran", "--kdf", "interactive",
        "--member", "bagheri", "--level", "propose",
    )  # fmt: skip
    assert code == 0, out + err
    assert f"Created a profile in {iran} on {host}" in err
    assert "verify-device t envoy --fingerprint" in out  # the inviter's member, not one's own party
    shown = Person(iran)("profile", "show")
    assert shown["name"] == "Iran" and shown["host"] == host and shown["talks"] == ["t"]
    # A spent invite is bad input: exit 2, its code.
    again = runner.invoke(
        app, ["talks", "join", invite, "--profile", str(tmp_path / "x"), "--json", "--kdf",
              "interactive"], env=ENV,
    )  # fmt: skip
    assert again.exit_code == 2, again.output
    assert json.loads(again.stdout)["error"]["code"] == "invite.invalid"


@pytest.fixture(scope="module")
def two_rooms(host: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Person]:
    root = tmp_path_factory.mktemp("people")
    oman, iran = Person(root / "oman"), Person(root / "iran")
    oman("profile", "create", "--host", host, "--kdf", "interactive")
    oman("talks", "create", "t", "--party", "oman", "--member", "envoy", "--mediator")
    invite = oman("talks", "invite", "t", "--party", "iran")["invite"]
    iran(
        "talks", "join", invite, "--member", "bagheri", "--level", "propose", "--kdf", "interactive"
    )
    synced = oman("sync")
    assert synced["talks"][0]["alias"] == "t"
    assert "iran" in iran("sync")["talks"][0]["parties"]
    # A caucus every test may use (xdist may run any one of them alone on its worker).
    oman("room", "create", "t", "iran-caucus", "--kind", "caucus", "--party", "iran")
    iran("room", "join", "t", "iran-caucus")
    return {"oman": oman, "iran": iran}


def test_room_create_joins_its_creator_unless_told_not_to(two_rooms: dict[str, Person]) -> None:
    oman, iran = two_rooms["oman"], two_rooms["iran"]
    made = oman("room", "create", "t", "iran-main", "--kind", "caucus", "--party", "iran")
    assert made["joined"] is True
    bare = oman(
        "room", "create", "t", "iran-bare", "--kind", "caucus", "--party", "iran", "--no-join"
    )
    assert bare["joined"] is False
    iran("room", "join", "t", "iran-main")
    iran("room", "join", "t", "iran-bare")
    # Into the caucus with its mediator: no caution. Into the bare one: the mediator never reads it.
    assert iran("send", "t", "iran-main", "x", "--label", "carry-gist")["warnings"] == []
    sent = iran("send", "t", "iran-bare", "y", "--label", "carry-gist", "--id", "early")
    assert [w["code"] for w in sent["warnings"]] == ["send.no_mediator_in_room"]
    code, _, err = human(
        "send", "t", "iran-bare", "z", "--label", "carry-gist", "--profile", str(iran.directory)
    )
    assert code == 0 and "warning send.no_mediator_in_room" in err


def test_a_relay_into_a_room_with_no_member_of_its_party_is_cautioned(
    two_rooms: dict[str, Person],
) -> None:
    oman, iran = two_rooms["oman"], two_rooms["iran"]
    oman("room", "create", "t", "iran-empty", "--kind", "caucus", "--party", "iran")
    iran("send", "t", "iran-caucus", "carry me", "--label", "carry-gist", "--id", "src")
    relayed = oman("relay", "t", "src", "iran-empty", "--mode", "gist", "--text", "gist")
    assert [w["code"] for w in relayed["warnings"]] == ["relay.no_party_member"]


def test_read_shows_each_messages_id(two_rooms: dict[str, Person]) -> None:
    two_rooms["iran"]("send", "t", "iran-caucus", "mine", "--label", "carry-gist", "--id", "m-seen")
    code, out, _ = human("read", "t", "--profile", str(two_rooms["oman"].directory))
    assert code == 0 and "m-seen " in out
    assert "[carry-gist]" in out


def test_no_passphrase_and_no_terminal_is_a_clear_error(tmp_path: Path, host: str) -> None:
    result = runner.invoke(
        app, ["profile", "create", "--host", host, "--profile", str(tmp_path / "p"), "--json"]
    )
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"]["code"] == "passphrase.missing"
    assert not (tmp_path / "p").exists()


def test_an_unreadable_passphrase_file_is_bad_input(tmp_path: Path, host: str) -> None:
    result = runner.invoke(
        app,
        ["profile", "show", "--profile", str(tmp_path), "--passphrase-file", str(tmp_path / "no")],
    )
    assert result.exit_code == 2
    assert "cannot read the passphrase file" in result.stderr and "Traceback" not in result.output


def _prompted(args: list[str], answers: list[str], tmp_path: Path) -> str:
    """Run the CLI on a real terminal, typing ``answers`` at its prompts; all it printed."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "backchannel", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=tmp_path,
        preexec_fn=_own_terminal,
    )
    os.close(follower)
    seen = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not select.select([leader], [], [], 1)[0]:
            continue
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break  # the process closed the terminal
        if not chunk:
            break
        seen += chunk
        if pending and seen.rstrip().endswith(b":"):
            _await_hidden_input(leader)
            time.sleep(0.3)  # past the prompt's own flush of what was typed before it
            os.write(leader, pending.pop(0).encode() + b"\n")
    proc.kill() if proc.poll() is None else None
    proc.wait(timeout=30)
    os.close(leader)
    return seen.decode(errors="replace")


def _await_hidden_input(leader: int) -> None:
    """Wait until the prompt has turned echo off: getpass flushes what was typed before that."""
    for _ in range(100):
        if not termios.tcgetattr(leader)[3] & termios.ECHO:
            return
        time.sleep(0.05)


def _own_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pseudo-terminal, so
    the hidden prompt (getpass opens /dev/tty) reads what the test types."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_a_short_new_passphrase_is_refused_before_it_is_typed_twice(
    tmp_path: Path, host: str
) -> None:
    said = _prompted(
        ["profile", "create", "--host", host, "--profile", str(tmp_path / "p")], ["short"], tmp_path
    )
    assert "passphrase.too_short" in said
    assert "Repeat" not in said
    assert not (tmp_path / "p" / "keystore.bcks").exists()


def test_two_different_passphrases_create_nothing(tmp_path: Path, host: str) -> None:
    said = _prompted(
        ["profile", "create", "--host", host, "--profile", str(tmp_path / "p"), "--kdf",
         "interactive"],
        ["long enough one", "long enough two"],
        tmp_path,
    )  # fmt: skip
    assert "Repeat" in said and "passphrase.mismatch" in said
    assert not (tmp_path / "p" / "keystore.bcks").exists()


def test_help_is_wrapped_at_the_terminals_width_not_the_sources() -> None:
    result = runner.invoke(app, ["doc", "get", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "marks in its text layer that name the copy when a leaked file" in result.stdout
    assert "``" not in result.stdout


def test_status_prints_the_root_as_verify_does_and_timestamps_are_whole(
    two_rooms: dict[str, Person], tmp_path: Path
) -> None:
    oman = two_rooms["oman"]
    status = oman("record", "status", "t")
    assert bytes.fromhex(status["root_hex"]).hex() == status["root_hex"]
    code, out, _ = human("record", "status", "t", "--profile", str(oman.directory))
    assert code == 0 and f"root {status['root_hex']}" in out.replace("\n", "")
    bundle = tmp_path / "t.bundle"
    oman("record", "export", "t", "--out", str(bundle))
    verified = runner.invoke(app, ["record", "verify", str(bundle)], env={"COLUMNS": "80"})
    root = verified.stdout.split("root ", 1)[1][:16]
    assert verified.exit_code == 0 and status["root_hex"].startswith(root)
    result = runner.invoke(
        app, ["record", "timeline", "t", "--profile", str(oman.directory)],
        env={**ENV, "COLUMNS": "80"},
    )  # fmt: skip
    stamps = [a["at"] for a in oman("record", "timeline", "t")["timeline"]]
    assert stamps and all(stamp in result.stdout for stamp in stamps)
