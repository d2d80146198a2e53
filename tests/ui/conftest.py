"""The Muscat talks on a real host, three real profiles, and each one's web app on 127.0.0.1.

Oman convenes and mediates; the US and Iran join by invite through the real CLI; Oman opens a
caucus with each. Then each profile is opened in this process and served by its own web app, with
its own token and background sync, exactly as ``backchannel ui`` does. Built once per worker for
every test of ``tests/ui`` (they share one xdist group).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from backchannel.cli import app
from backchannel.client.profile import Profile
from backchannel.client.simulation import temporary_host
from backchannel.ui import create_app, new_token, serving

PASSPHRASE = "correct horse battery staple"
TITLE = "Muscat proximity talks, January 2024"
TITLE_AR = "محادثات مسقط غير المباشرة، يناير 2024"
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


@dataclass
class App:
    """One profile's running web app: where it listens and its token."""

    base: str
    token: str
    profile: Profile

    def url(self, lang: str | None = None) -> str:
        """The address ``backchannel ui`` would print (with a language, if given)."""
        return f"{self.base}/?token={self.token}" + (f"&lang={lang}" if lang else "")

    def client(self) -> httpx.Client:
        """An HTTP client that calls as the app's own page does: the token as a bearer header,
        and the app's own ``Origin`` (which every change needs)."""
        headers = {"authorization": f"Bearer {self.token}", "origin": self.base}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


@pytest.fixture(scope="package")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    scratch = tmp_path_factory.mktemp("ui-host")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        yield url


@pytest.fixture(scope="package")
def people(host: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Person]:
    """Oman convenes and mediates; the US and Iran join; a caucus with each; nobody spoke yet.
    The talks, parties and Iran's member are named in English and Arabic; Iran's profile has no
    name of its own (its page calls the device after its member)."""
    root = tmp_path_factory.mktemp("ui-profiles")
    found = {name: Person(root / name) for name in ("oman", "us", "iran")}
    for name, person in found.items():
        named = [] if name == "iran" else ["--name", name]
        person("profile", "create", "--host", host, *named, "--kdf", "interactive")
    oman, us, iran = found["oman"], found["us"], found["iran"]
    oman(
        "talks", "create", "muscat", "--party", "oman", "--member", "envoy", "--mediator",
        "--title", TITLE, "--title-in", f"ar={TITLE_AR}",
        "--party-name", "Sultanate of Oman", "--party-name-in", "ar=سلطنة عُمان",
        "--member-name", "Omani official", "--member-name-in", "ar=مسؤول عُماني",
    )  # fmt: skip
    joining = {
        "us": ("mcgurk", "United States", "ar=الولايات المتحدة", "Brett McGurk", "ar=بريت ماكغورك"),
        "iran": ("bagheri", "Iran", "ar=إيران", "Ali Bagheri Kani", "ar=علي باقري كني"),
    }
    for party, (member, name, name_ar, member_name, member_ar) in joining.items():
        code = oman("talks", "invite", "muscat", "--party", party)["invite"]
        found[party](
            "talks", "join", code, "--member", member, "--level", "propose",
            "--party-name", name, "--party-name-in", name_ar,
            "--member-name", member_name, "--member-name-in", member_ar,
        )  # fmt: skip
    for person in found.values():
        person("talks", "list")  # sync: introductions and declarations travel
    for party in ("us", "iran"):
        oman("room", "create", "muscat", f"{party}-caucus", "--kind", "caucus", "--party", party)
    us("room", "join", "muscat", "us-caucus")
    iran("room", "join", "muscat", "iran-caucus")
    return found


@pytest.fixture(scope="package")
def apps(people: dict[str, Person]) -> Iterator[dict[str, App]]:
    """Each profile opened here and served by its own web app (a short poll: quick teardown)."""
    with ExitStack() as stack:
        running: dict[str, App] = {}
        for name, person in people.items():
            profile = stack.enter_context(Profile.open(person.directory, PASSPHRASE))
            profile.sync()
            token = new_token()
            base = stack.enter_context(serving(create_app(profile, token, poll_seconds=2)))
            running[name] = App(base, token, profile)
        yield running
