"""``backchannel match --direct --talks``: two CLI processes at once, one real host.

The US and Iranian envoys each run their own side from a file holding only their own
commitments; each prints what it learned, and neither output holds the other's unmatched
commitment. Bad use exits 2 with a stable code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backchannel.client.simulation import temporary_host
from tests.cli.test_rooms import PASSPHRASE, Person
from tests.client.test_direct_session import CANARIES, UNMATCHED, own_file


@pytest.fixture(scope="module")
def envoys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Person]]:
    """The US envoy convenes talks ``direct``; Iran's envoy joins; each has its own file."""
    scratch = tmp_path_factory.mktemp("direct")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        people = {name: Person(scratch / name) for name in ("us", "iran")}
        for name, person in people.items():
            person("profile", "create", "--host", url, "--name", name, "--kdf", "interactive")
            (scratch / f"{name}.json").write_text(json.dumps(own_file(name)), encoding="utf-8")
        people["us"](
            "talks",
            "create",
            "direct",
            "--party",
            "us",
            "--member",
            "witkoff",
            "--level",
            "propose",
        )
        code = people["us"]("talks", "invite", "direct", "--party", "iran")["invite"]
        people["iran"]("talks", "join", code, "--member", "araghchi", "--level", "propose")
        for _ in range(2):
            for person in people.values():
                person("talks", "list")
        yield people


def start(person: Person, *args: str) -> subprocess.Popen[str]:
    """``backchannel match`` as ``person``, in its own process."""
    env = {**os.environ, "BACKCHANNEL_PASSPHRASE": PASSPHRASE}
    return subprocess.Popen(
        [sys.executable, "-m", "backchannel", "match", *args, "--profile", str(person.directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def own(person: Person) -> str:
    return str(person.directory.parent / f"{person.directory.name}.json")


def test_both_envoys_match_through_the_host_and_learn_only_the_match(
    envoys: dict[str, Person],
) -> None:
    """Run at once, both processes exit 0 with the same session and plan, the settlement at
    1.25 mbpd, the other side's matched commitments, both signatures in the record; neither
    prints the other's unmatched commitment (a canary)."""
    us, iran = envoys["us"], envoys["iran"]
    args = ("--direct", "--talks", "direct", "--json", "--timeout", "90")
    processes = {"us": start(us, own(us), *args), "iran": start(iran, own(iran), *args)}
    outputs: dict[str, dict[str, Any]] = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=150)
        assert process.returncode == 0, stderr + stdout
        outputs[name] = json.loads(stdout)
    us_out, iran_out = outputs["us"], outputs["iran"]
    assert us_out["session"] == iran_out["session"] and us_out["initiator"] != iran_out["initiator"]
    assert us_out["agreed"] and iran_out["agreed"] and us_out["signed_by"] == ["iran", "us"]
    assert us_out["own_matched"] == ["us-guarantee-if-peace"]
    assert {c["id"] for c in us_out["disclosed_by_other"]} == {
        "iran-peace-if-guaranteed",
        "iran-authority-if-guaranteed",
    }
    assert [c["id"] for c in iran_out["disclosed_by_other"]] == ["us-guarantee-if-peace"]
    assert us_out["plan"] == iran_out["plan"]
    (settled,) = us_out["settlements"]
    assert settled["value"] == pytest.approx(1.25) and settled["overlap"] == [1.0, 1.5]
    assert us_out["learned_sizes"]["other_set_size"] == 1024
    assert us_out["dropped"] == [] and iran_out["dropped"] == []
    for name, other in (("us", "iran"), ("iran", "us")):
        printed = json.dumps(outputs[name], ensure_ascii=False)
        assert CANARIES[other] not in printed and UNMATCHED[other] not in printed


def test_bad_use_exits_2_with_a_stable_code(envoys: dict[str, Person], tmp_path: Path) -> None:
    """--talks without --direct, unknown talks, a file without this side's commitments, another
    party than the talks', a session the other side never answers, a size this side's deals do
    not fit: each exits 2 with its code."""
    us = envoys["us"]
    cases: list[tuple[tuple[str, ...], str]] = [
        ((own(us), "--talks", "direct"), "escrow.invalid"),
        ((own(us), "--direct", "--talks", "nowhere"), "talks.unknown"),
        ((own(envoys["iran"]), "--direct", "--talks", "direct"), "direct.unavailable"),
        ((own(us), "--direct", "--talks", "direct", "--with", "oman"), "direct.unavailable"),
        ((own(us), "--direct", "--talks", "direct", "--timeout", "2"), "direct.timeout"),
        ((own(us), "--direct", "--talks", "direct", "--size", "16"), "psi.too_many"),
    ]
    for args, code in cases:
        result = us("match", *args, code=2)
        assert result["error"]["code"] == code, args
