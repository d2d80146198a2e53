"""The Mandates page's API over real apps: who holds what, granting and revoking through the
device's own engine (a refused act changes nothing), and what the other parties' devices see.

Tests on the shared Muscat talks only grant ``observe`` to a member who holds more, which lowers
nothing; revocations happen in talks of their own (``geneva``), convened for this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from backchannel.client.profile import Profile
from backchannel.ui import create_app, new_token, serving
from tests.ui.conftest import PASSPHRASE, App, Person
from tests.ui.test_api import wait_for

pytestmark = pytest.mark.xdist_group("ui")


def mandates(app: App, talks: str = "muscat") -> dict[str, Any]:
    """One talks as the app's Mandates page gets it."""
    with app.client() as client:
        data = client.get("/api/mandates", params={"talks": talks}).raise_for_status().json()
    (found,) = data["talks"]
    assert found["alias"] == talks
    return dict(found)


def member(data: dict[str, Any], member_id: str) -> dict[str, Any]:
    """A member's row, whichever party it is in."""
    return next(m for p in data["parties"] for m in p["members"] if m["id"] == member_id)


@pytest.fixture(scope="module")
def geneva(host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, App]]:
    """Talks of this module's own: Oman mediates (its envoy signs), the US's Sullivan accepts."""
    root = tmp_path_factory.mktemp("ui-geneva")
    oman, us = Person(root / "oman"), Person(root / "us")
    for name, person in (("oman", oman), ("us", us)):
        person("profile", "create", "--host", host, "--name", name, "--kdf", "interactive")
    oman("talks", "create", "geneva", "--party", "oman", "--member", "envoy", "--mediator")
    code = oman("talks", "invite", "geneva", "--party", "us")["invite"]
    us("talks", "join", code, "--member", "sullivan", "--level", "accept")
    for person in (oman, us, oman):
        person("talks", "list")  # introductions and declarations travel
    with ExitStack() as stack:
        running: dict[str, App] = {}
        for name, person in (("oman", oman), ("us", us)):
            profile = stack.enter_context(Profile.open(person.directory, PASSPHRASE))
            profile.sync()
            token = new_token()
            base = stack.enter_context(serving(create_app(profile, token, poll_seconds=2)))
            running[name] = App(base, token, profile)
        yield running


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/mandates"),
        ("POST", "/api/mandates/grant"),
        ("POST", "/api/mandates/revoke"),
    ],
)
def test_the_mandate_routes_need_the_token(apps: dict[str, App], method: str, path: str) -> None:
    """Without the token (or with another app's) every route is a 403 problem."""
    body = {"talks": "muscat", "member": "mcgurk", "level": "observe"}
    for headers in ({}, {"authorization": f"Bearer {apps['oman'].token}"}):
        headers = {"origin": apps["us"].base, **headers}
        response = httpx.request(method, apps["us"].base + path, json=body, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "ui.token_missing"


def test_a_device_answers_only_for_its_own_talks(apps: dict[str, App]) -> None:
    """Talks the device is not in are a 404 problem, for reading and for acting alike."""
    with apps["us"].client() as client:
        for response in (
            client.get("/api/mandates", params={"talks": "geneva-elsewhere"}),
            client.post(
                "/api/mandates/grant",
                json={"talks": "geneva-elsewhere", "member": "mcgurk", "level": "observe"},
            ),
            client.post(
                "/api/mandates/revoke", json={"talks": "geneva-elsewhere", "member": "mcgurk"}
            ),
        ):
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "talks.unknown"


def test_every_party_member_level_and_device_fingerprint(apps: dict[str, App]) -> None:
    """Each party's members with their level and root-issued grant, and the devices acting for
    them with their owners' fingerprints: the US member's, as Oman's device knows it, is the
    one the US device shows for itself. The US may grant up to its own 'propose'."""
    seen_by_oman = mandates(apps["oman"])
    assert [p["id"] for p in seen_by_oman["parties"]] == ["iran", "oman", "us"]
    mcgurk = member(seen_by_oman, "mcgurk")
    assert mcgurk["level"] == "propose" and mcgurk["lapse"] is None
    first = mcgurk["grants"][0]
    assert first["level"] == "propose" and first["grantor"] is None
    assert first["revoked_at"] is None and first["expires"] is None
    (device,) = mcgurk["devices"]
    assert device["fingerprint"] == apps["us"].profile.fingerprint
    assert device["party"] == "us" and device["root"] is True
    assert member(seen_by_oman, "envoy")["devices"][0].get("this_device") is True
    own = mandates(apps["us"])
    assert own["me"] == "mcgurk" and own["party"] == "us" and own["level"] == "propose"
    assert own["grantable"] == ["observe", "speak", "propose"]
    assert member(own, "envoy")["devices"][0]["fingerprint"] == apps["oman"].profile.fingerprint
    with apps["us"].client() as client:
        every = client.get("/api/mandates").raise_for_status().json()
    assert [t["alias"] for t in every["talks"]] == ["muscat"]
    assert every["levels"] == ["observe", "speak", "propose", "accept", "sign"]


def test_a_grant_beyond_your_own_mandate_is_refused_and_changes_nothing(
    apps: dict[str, App],
) -> None:
    """McGurk holds 'propose': granting 'accept' is refused by his own device's engine
    (mandate.exceeds_grantor), granting to another party's member too (mandate.insufficient);
    no grant appears on his device or on Oman's."""
    before, oman_before = mandates(apps["us"]), mandates(apps["oman"])
    with apps["us"].client() as client:
        for body, code in (
            ({"member": "mcgurk", "level": "accept"}, "mandate.exceeds_grantor"),
            ({"member": "mcgurk", "level": "sign"}, "mandate.exceeds_grantor"),
            ({"member": "bagheri", "level": "observe"}, "mandate.insufficient"),
            ({"member": "nobody", "level": "observe"}, "entity.unknown"),
        ):
            response = client.post("/api/mandates/grant", json={"talks": "muscat", **body})
            assert response.status_code in (403, 404), response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == code
    assert mandates(apps["us"]) == before
    assert mandates(apps["oman"]) == oman_before


def test_a_grant_within_your_mandate_reaches_the_other_parties(apps: dict[str, App]) -> None:
    """McGurk grants himself 'observe' until a date: Oman's and Iran's devices show the grant,
    made by McGurk, with its expiry; his level stays 'propose' (the widest live grant counts)."""
    until = (datetime.now(UTC) + timedelta(days=30)).date()
    with apps["us"].client() as client:
        response = client.post(
            "/api/mandates/grant",
            json={"talks": "muscat", "member": "mcgurk", "level": "observe", "expires": str(until)},
        )
    assert response.status_code == 200, response.text
    grant = response.json()["grant"]
    expires = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    assert response.json()["expires"] == expires.isoformat()

    def granted(app: App) -> dict[str, Any] | None:
        rows = member(mandates(app), "mcgurk")["grants"]
        return next((g for g in rows if g["id"] == grant), None)

    for name in ("us", "oman", "iran"):
        seen = wait_for(lambda name=name: granted(apps[name]))
        assert seen["level"] == "observe" and seen["grantor"] == "mcgurk"
        assert seen["expires"] == expires.isoformat() and seen["revoked_at"] is None
        assert member(mandates(apps[name]), "mcgurk")["level"] == "propose"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("grant", {"talks": "muscat", "member": "mcgurk"}, "level"),
        ("grant", {"talks": "muscat", "member": "mcgurk", "level": "boss"}, "level"),
        ("grant", {"talks": "muscat", "member": "mcgurk", "level": 1}, "level"),
        ("grant", {"talks": "muscat", "level": "observe"}, "member"),
        ("grant", {"member": "mcgurk", "level": "observe"}, "talks"),
        (
            "grant",
            {"talks": "muscat", "member": "mcgurk", "level": "observe", "expires": "soon"},
            "expires",
        ),
        (
            "grant",
            {
                "talks": "muscat",
                "member": "mcgurk",
                "level": "observe",
                "expires": "2030-01-01T09:00",
            },
            "expires",
        ),
        ("revoke", {"talks": "muscat"}, "member"),
        ("revoke", {"talks": "muscat", "member": ["mcgurk"]}, "member"),
        ("revoke", [], "body"),
    ],
)
def test_a_malformed_request_names_the_field(
    apps: dict[str, App], path: str, body: Any, field: str
) -> None:
    """A missing or bad field is a 400 form.invalid naming it; nothing is acted on."""
    before = mandates(apps["us"])
    with apps["us"].client() as client:
        response = client.post(f"/api/mandates/{path}", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "form.invalid"
    assert response.json()["detail"].startswith(field)
    assert mandates(apps["us"]) == before


def test_an_expiry_in_the_past_is_the_engines_refusal(apps: dict[str, App]) -> None:
    """A well-formed expiry that has passed is refused by the engine (mandate.expired)."""
    before = mandates(apps["us"])
    with apps["us"].client() as client:
        response = client.post(
            "/api/mandates/grant",
            json={
                "talks": "muscat",
                "member": "mcgurk",
                "level": "observe",
                "expires": "2001-01-01",
            },
        )
    assert response.status_code == 403
    assert response.json()["code"] == "mandate.expired"
    assert mandates(apps["us"]) == before


def test_a_revocation_is_seen_by_every_party(geneva: dict[str, App]) -> None:
    """Oman's envoy may not revoke a US mandate (mandate.insufficient); Sullivan revokes his
    own: both devices then show him with no mandate ('revoked'), every grant revoked; a grant
    he tries afterwards is refused (mandate.revoked) and changes nothing."""
    wait_for(lambda: any(m["id"] == "sullivan" for m in _members(geneva["oman"])))
    with geneva["oman"].client() as oman:
        refused = oman.post("/api/mandates/revoke", json={"talks": "geneva", "member": "sullivan"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "mandate.insufficient"
    assert member(mandates(geneva["us"], "geneva"), "sullivan")["level"] == "accept"
    with geneva["us"].client() as us:
        done = us.post("/api/mandates/revoke", json={"talks": "geneva", "member": "sullivan"})
        assert done.status_code == 200, done.text
        for app in geneva.values():
            seen = wait_for(
                lambda app=app: (
                    member(mandates(app, "geneva"), "sullivan")["lapse"] == "revoked"
                    and member(mandates(app, "geneva"), "sullivan")
                )
            )
            assert seen["level"] is None
            assert all(g["revoked_at"] is not None for g in seen["grants"])
        own = mandates(geneva["us"], "geneva")
        assert own["level"] is None and own["grantable"] == []
        late = us.post(
            "/api/mandates/grant",
            json={"talks": "geneva", "member": "sullivan", "level": "observe"},
        )
        assert late.status_code == 403
        assert late.json()["code"] == "mandate.revoked"
    assert mandates(geneva["us"], "geneva") == own


def _members(app: App, talks: str = "geneva") -> list[dict[str, Any]]:
    return [m for p in mandates(app, talks)["parties"] for m in p["members"]]
