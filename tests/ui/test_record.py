"""The Record page's API over real apps: the status each device checked, the verified timeline,
the exported bundle (verified offline), and a rollback by a lying host shown as an alarm.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import nacl.pwhash
import pytest
from nacl.signing import SigningKey

from backchannel.client import bundle
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine.rules import RoomKind
from backchannel.server import HostConfig, Limits
from backchannel.server import create_app as create_host
from backchannel.server.local import serve_app
from backchannel.ui import create_app, new_token, serving
from tests.client.malicious import MaliciousHost
from tests.ui.conftest import App

pytestmark = pytest.mark.xdist_group("ui")

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


def record(app: App, talks: str = "muscat") -> dict[str, Any]:
    """One talks as the app's Record page gets it."""
    with app.client() as client:
        data = client.get("/api/record", params={"talks": talks}).raise_for_status().json()
    (found,) = data["talks"]
    assert found["alias"] == talks
    return dict(found)


@pytest.mark.parametrize(
    "path", ["/api/record", "/api/record?talks=muscat", "/api/record/export?talks=muscat"]
)
def test_the_record_routes_need_the_token(apps: dict[str, App], path: str) -> None:
    """Without the token (or with another app's) the status and the bundle are a 403 problem."""
    for headers in ({}, {"authorization": f"Bearer {apps['iran'].token}"}):
        response = httpx.get(apps["us"].base + path, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "ui.token_missing"
        assert "content-disposition" not in response.headers


def test_a_device_answers_only_for_its_own_talks(apps: dict[str, App]) -> None:
    """Talks the device is not in are a 404 problem; a bad query a 400 naming the parameter."""
    with apps["us"].client() as client:
        for response in (
            client.get("/api/record", params={"talks": "elsewhere"}),
            client.get("/api/record/export", params={"talks": "elsewhere"}),
        ):
            assert response.status_code == 404
            assert response.json()["code"] == "talks.unknown"
        for params, field in (
            ({}, "talks"),
            ({"talks": "muscat", "with_content": "yes"}, "with_content"),
        ):
            response = client.get("/api/record/export", params=params)
            assert response.status_code == 400
            assert response.json()["code"] == "form.invalid"
            assert response.json()["detail"].startswith(field)


def test_each_device_checked_the_record_and_raised_no_alarm(apps: dict[str, App]) -> None:
    """Every device holds a verified head of the record (size, root, events proven in it), saw
    it extend the head it held before, and has no alarm; its timeline verifies to the same head,
    with each party's declaration by its root and each member's act under its mandate chain."""
    for name, app in apps.items():
        record(app)  # a first check: the next one proves consistency with it
        found = record(app)
        status = found["status"]
        assert status["tree_size"] > 0, name
        assert status["alarms"] == [], name
        assert status["verified_events"] > 0 and status["held_events"] >= 1
        assert status["root_hex"] and status["checkpoint"]
        assert status["consistency"]["proven"] is True
        assert status["consistency"]["from_size"] <= status["tree_size"]
        assert found["problem"] is None
        timeline = found["timeline"]
        assert timeline["verified"] is True
        assert timeline["size"] <= status["tree_size"]
        declared = {act["actor"] for act in timeline["timeline"] if act["action"] == "add_party"}
        assert declared == {"oman", "us", "iran"}
        state = status["state"]
        assert state["complete"] is True and state["size"] <= status["tree_size"]
        assert state["digest"], name
    # Once the checkpoints travelled, devices name whom they found in the same state, by name.
    for app in apps.values():
        record(app)
    compared = [c for app in apps.values() for c in record(app)["status"]["state"]["compared"]]
    assert compared, "no device compared its state with another's"
    assert {c["party"] for c in compared} <= {"oman", "us", "iran"}
    assert all(c["size"] > 0 and "member" in c for c in compared)
    us = record(apps["us"])["timeline"]
    (joined,) = [
        act
        for act in us["timeline"]
        if act["action"] == "join" and act["actor"] == "mcgurk" and act["party"] == "us"
    ]
    (link,) = joined["mandate"]
    assert link["member"] == "mcgurk" and link["level"] == "propose"
    with apps["us"].client() as client:
        every = client.get("/api/record").raise_for_status().json()
    assert [t["alias"] for t in every["talks"]] == ["muscat"]


def test_the_export_downloads_a_bundle_that_verifies_offline(apps: dict[str, App]) -> None:
    """The export is an attachment holding the bundle ``record export`` writes: it verifies
    offline byte for byte; the US's own message is in it only with the content."""
    words = f"record export check {secrets.token_hex(3)}"
    with apps["us"].client() as client:
        client.post(
            "/api/send",
            json={"talks": "muscat", "room": "us-caucus", "text": words, "label": "carry-gist"},
        ).raise_for_status()
        acts = client.get("/api/record/export", params={"talks": "muscat", "with_content": "0"})
        full = client.get("/api/record/export", params={"talks": "muscat", "with_content": "1"})
    for response in (acts, full):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;") and ".record.json" in disposition
        verified = bundle.loads(response.content)  # the canonical bytes, and it verifies
        assert bundle.verify(response.json()).size == verified.size > 0
    assert words not in acts.text and acts.json()["with_content"] is False
    assert words in full.text and full.json()["with_content"] is True
    assert len(bundle.loads(full.content).acts) > len(bundle.loads(acts.content).acts)


@pytest.fixture(scope="module")
def lying(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MaliciousHost, App]]:
    """A host that can lie about its record, and one convener's app on it."""
    root = tmp_path_factory.mktemp("ui-lying-host")
    db = f"sqlite:///{root}/host.db"
    key = SigningKey.generate()
    config = HostConfig(db_url=db, limits=Limits(rate_per_s=0), log_key=key)
    host = MaliciousHost(create_host(config), db, key, config.host_name)
    with serve_app(host) as url:
        profile = Profile.create(root / "oman", "passphrase", host_url=url, kdf_limits=FAST)
        with profile:
            participant = profile.create_talks("solo", party="oman", member="envoy", mediator=True)
            profile.act(participant, ev.CreateRoom, room="r", kind=RoomKind.PLENARY)
            profile.act(participant, ev.Join, room="r", member="envoy")
            token = new_token()
            with serving(create_app(profile, token, poll_seconds=2)) as base:
                yield host, App(base, token, profile)


def test_a_rollback_by_the_host_is_an_alarm(lying: tuple[MaliciousHost, App]) -> None:
    """The host serves the record two entries shorter than the head the device checked: the
    status says consistency was not proven and carries the rollback alarm, kept afterwards; no
    timeline is built from the lying host's answers."""
    host, app = lying
    honest = record(app, "solo")["status"]
    assert honest["alarms"] == [] and honest["tree_size"] >= 5
    size = honest["tree_size"]
    host.forgery = lambda entries: entries[: size - 2]
    try:
        found = record(app, "solo")
    finally:
        host.forgery = None
    status = found["status"]
    assert found["timeline"] is None  # nothing more is taken from a host caught lying
    assert [a["code"] for a in status["alarms"]] == ["record.rollback"]
    assert status["consistency"] == {"from_size": size, "proven": False}
    assert status["tree_size"] == size  # the device keeps the head it proved, not the lie
    assert [a["code"] for a in record(app, "solo")["status"]["alarms"]] == ["record.rollback"]
