"""Members and devices on the Mandates page, over real apps: a root invites a member, a member
links another device of its own and revokes it, and every route refuses what it should."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from backchannel.client.admission import Purpose
from backchannel.client.invites import Invite, Link
from backchannel.client.profile import Profile
from backchannel.ui import create_app, new_token, serving
from tests.ui.conftest import PASSPHRASE, App, Person
from tests.ui.test_api import wait_for
from tests.ui.test_mandates import mandates

pytestmark = pytest.mark.xdist_group("ui")

LINK_PASSPHRASE = "a passphrase for the laptop"


@pytest.fixture(scope="module")
def lisbon(host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Talks of this module's own: Oman mediates, the US's Sullivan signs; both apps run."""
    root = tmp_path_factory.mktemp("ui-lisbon")
    oman, us = Person(root / "oman"), Person(root / "us")
    for name, person in (("oman", oman), ("us", us)):
        person("profile", "create", "--host", host, "--name", name, "--kdf", "interactive")
    oman("talks", "create", "lisbon", "--party", "oman", "--member", "envoy", "--mediator")
    code = oman("talks", "invite", "lisbon", "--party", "us")["invite"]
    us("talks", "join", code, "--member", "sullivan", "--level", "sign")
    for person in (oman, us, oman, us):
        person("talks", "list")
    with ExitStack() as stack:
        running: dict[str, Any] = {"root": root}
        for name, person in (("oman", oman), ("us", us)):
            profile = stack.enter_context(Profile.open(person.directory, PASSPHRASE))
            profile.sync()
            token = new_token()
            base = stack.enter_context(serving(create_app(profile, token, poll_seconds=2)))
            running[name] = App(base, token, profile)
        yield running


def devices(app: App, member: str) -> list[dict[str, Any]]:
    data = mandates(app, "lisbon")
    return [
        d for p in data["parties"] for m in p["members"] if m["id"] == member for d in m["devices"]
    ]


@pytest.mark.parametrize(
    "path", ["/api/mandates/member", "/api/mandates/device/link", "/api/mandates/device/revoke"]
)
def test_the_people_routes_need_the_token(lisbon: dict[str, Any], path: str) -> None:
    """Without the token (or with another app's) every route is a 403 problem, even from the
    app's own origin; from another origin it is refused before the token is looked at."""
    body = {
        "talks": "lisbon",
        "member": "x",
        "level": "observe",
        "device": "d",
        "passphrase": "p" * 9,
    }
    us = lisbon["us"]
    own = {"origin": us.base}
    for headers in (own, {**own, "authorization": f"Bearer {lisbon['oman'].token}"}):
        response = httpx.post(us.base + path, json=body, headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "ui.token_missing"
    foreign = {"origin": lisbon["oman"].base, "authorization": f"Bearer {us.token}"}
    response = httpx.post(us.base + path, json=body, headers=foreign)
    assert (response.status_code, response.json()["code"]) == (403, "ui.origin_refused")


def test_a_root_invites_a_member_who_joins(lisbon: dict[str, Any]) -> None:
    """The US app (its party's root) makes an invite for 'aide' with 'speak'; the aide joins by
    the CLI; both apps then list the aide with that mandate. An invite Oman's app makes is for
    Oman's own party: a root adds members to its party only."""
    us, oman = lisbon["us"], lisbon["oman"]
    assert mandates(us, "lisbon")["can_add_members"] is True
    with us.client() as client:
        made = client.post(
            "/api/mandates/member",
            json={"talks": "lisbon", "member": "aide", "name": "An aide", "level": "speak"},
        )
    assert made.status_code == 200, made.text
    aide = Person(lisbon["root"] / "aide")
    aide(
        "profile", "create", "--host", us.profile.host_url, "--name", "aide", "--kdf", "interactive"
    )
    aide("talks", "join", made.json()["invite"])
    for app in (us, oman):
        found = wait_for(
            lambda app=app: next(
                (
                    m
                    for p in mandates(app, "lisbon")["parties"]
                    for m in p["members"]
                    if m["id"] == "aide" and m["level"]
                ),
                None,
            )
        )
        assert (found["name"], found["level"]) == ("An aide", "speak")
    aide("talks", "list")
    with oman.client() as client:
        own = client.post(
            "/api/mandates/member", json={"talks": "lisbon", "member": "x", "level": "speak"}
        )
    assert own.status_code == 200
    assert Invite.decode(own.json()["invite"]).admission.party == "oman"


def test_a_member_links_a_device_then_revokes_it(lisbon: dict[str, Any], tmp_path: Path) -> None:
    """Sullivan's app downloads a device link (sealed: it opens with its passphrase only, and
    admits a device of Sullivan); a laptop joins with it; both apps list Sullivan's two devices;
    the US app revokes the laptop; both apps then show it revoked, with no Revoke button."""
    us, oman = lisbon["us"], lisbon["oman"]
    with us.client() as client:
        short = client.post(
            "/api/mandates/device/link", json={"talks": "lisbon", "passphrase": "x"}
        )
        assert short.status_code == 400 and short.json()["code"] == "form.invalid"
        made = client.post(
            "/api/mandates/device/link", json={"talks": "lisbon", "passphrase": LINK_PASSPHRASE}
        )
    assert made.status_code == 200, made.text
    opened = Link.open(made.json()["link"], LINK_PASSPHRASE)
    assert opened.invite.admission.purpose is Purpose.DEVICE
    assert opened.invite.admission.member == "sullivan"
    link = tmp_path / "laptop.bclink"
    link.write_text(made.json()["link"], encoding="utf-8")
    laptop = Person(tmp_path / "laptop")
    laptop.directory.mkdir()
    secret = tmp_path / "secret"
    secret.write_text(LINK_PASSPHRASE, encoding="utf-8")
    laptop(
        "profile",
        "create",
        "--from-link",
        str(link),
        "--kdf",
        "interactive",
        "--passphrase-file",
        str(secret),
    )
    new = laptop("profile", "show", "--passphrase-file", str(secret))["device"]
    for app in (us, oman):
        wait_for(lambda app=app: len(devices(app, "sullivan")) == 2)
    row = next(d for d in devices(us, "sullivan") if d["device"] == new)
    assert row["revocable"] is True
    assert all(not d["revocable"] for d in devices(oman, "sullivan"))  # not Oman's to revoke
    with oman.client() as client:
        refused = client.post(
            "/api/mandates/device/revoke", json={"talks": "lisbon", "device": new}
        )
    assert refused.status_code == 403 and refused.json()["code"] == "mandate.insufficient"
    with us.client() as client:
        done = client.post("/api/mandates/device/revoke", json={"talks": "lisbon", "device": new})
    assert done.status_code == 200, done.text
    for app in (us, oman):
        seen = wait_for(
            lambda app=app: next(
                (d for d in devices(app, "sullivan") if d["device"] == new and d["revoked"]), None
            )
        )
        assert seen["revocable"] is False
