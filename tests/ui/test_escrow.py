"""The Escrow page over the talks' own deposits: the Muscat demo's state, three real apps.

The module's talks are the ``make run`` demo's (:func:`client.demo.build` over
``scenarios/muscat-2024.toml``, on the package's host): Iran's conditional offer and the US's
demand are deposited, sealed. Each route needs the app's token and Origin; a malformed commitment
is the engine's ``escrow.malformed`` and stores nothing; the US may not withdraw Iran's deposit
(``escrow.not_own``) nor match (``escrow.not_mediator``); the mediator's Match finds no match. In
a real Chromium the US page (its DOM and every response its app sent) holds no byte of Iran's
unmatched commitment while Oman's shows both deposits; the Arabic page passes axe. The reciprocal
demo shows its announced match and plan. Screenshots: ``us-escrow.png`` and
``mediator-escrow.png`` (``BACKCHANNEL_SCREENSHOTS``, as tests/ui/test_browser.py).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from backchannel.cli.local import KDF
from backchannel.client import demo
from backchannel.client.profile import Profile
from backchannel.scenario import load
from backchannel.ui import create_app, new_token, serving
from tests.test_scenario import MUSCAT
from tests.ui.conftest import PASSPHRASE, App
from tests.ui.test_api import wait_for
from tests.ui.test_browser import AXE, View, browser  # noqa: F401 (the browser fixture)

pytestmark = pytest.mark.xdist_group("ui")

RECIPROCAL = MUSCAT.with_name("muscat-2024-reciprocal.toml")
IRAN = "iran-halving-if-ceasefire"
US = "us-restraint-first"
#: Words of Iran's unmatched Muscat commitment alone: its description, the action only it
#: gives (id and words) and its offered term. The US's own deposit names none of them.
IRAN_WORDS = (
    "Iran does not control these groups, but will use its influence",
    "iran.halve_attacks",
    "cut attacks on Red Sea shipping and on US bases by at least half",
    "reduction_pct",
)
ROUTES = [
    "GET /api/escrow",
    "POST /api/escrow/deposit",
    "POST /api/escrow/compose",
    "POST /api/escrow/amend",
    "POST /api/escrow/withdraw",
    "POST /api/escrow/match",
]


def demo_apps(host: str, root: Path, scenario: Path) -> Iterator[tuple[str, dict[str, App]]]:
    """The demo of ``scenario`` built on ``host`` under ``root``, each profile served."""
    played = demo.build(load(scenario), root, host, PASSPHRASE, kdf_limits=KDF["interactive"])
    with ExitStack() as stack:
        running: dict[str, App] = {}
        for party, directory in played.profiles.items():
            profile = stack.enter_context(Profile.open(directory, PASSPHRASE))
            profile.sync()
            token = new_token()
            base = stack.enter_context(serving(create_app(profile, token, poll_seconds=2)))
            running[party] = App(base, token, profile)
        (alias,) = running["oman"].profile.talks
        yield alias, running


@pytest.fixture(scope="module")
def muscat(host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The Muscat demo: both commitments deposited, sealed."""
    yield from demo_apps(host, tmp_path_factory.mktemp("ui-escrow"), MUSCAT)


@pytest.fixture(scope="module")
def reciprocal(host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The reciprocal demo: both commitments matched, announced by Oman."""
    yield from demo_apps(host, tmp_path_factory.mktemp("ui-escrow-rec"), RECIPROCAL)


def escrow(app: App, alias: str) -> dict[str, Any]:
    """One talks as the app's Escrow page gets it."""
    with app.client() as client:
        data = client.get("/api/escrow", params={"talks": alias}).raise_for_status().json()
    (found,) = data["talks"]
    return dict(found)


def post(app: App, path: str, body: dict[str, Any]) -> httpx.Response:
    with app.client() as client:
        return client.post(path, json=body)


def problem(response: httpx.Response, status: int, code: str) -> str:
    """A problem document with ``code``; its detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    found = response.json()
    assert found["code"] == code, found
    return str(found["detail"])


def api_bodies(view: View) -> str:
    """Every answer of the app's API to this page (not its static scripts), the event stream
    left out (it never ends; it carries no text)."""
    seen = []
    for response in view.responses:
        if "/api/" in response.url and "/api/events" not in response.url:
            seen.append(response.body().decode("utf-8", "replace"))
    assert seen
    return "\n".join(seen)


def _body(route: str, alias: str) -> dict[str, Any]:
    if route.endswith("/deposit"):
        return {"talks": alias, "text": "{}"}
    if route.endswith("/compose"):
        return {"talks": alias, "id": "x", "gives": "", "requires": ""}
    if route.endswith("/amend"):
        return {"talks": alias, "deposit": US, "text": "{}"}
    if route.endswith("/withdraw"):
        return {"talks": alias, "deposit": US}
    return {"talks": alias}


# --- in a real browser (first: the screenshots show the demo's own state) ------------------------


def test_the_us_page_holds_no_byte_of_irans_commitment_and_omans_shows_both(
    browser: Browser,  # noqa: F811
    muscat: tuple[str, dict[str, App]],
) -> None:
    """The US Escrow page lists its own deposit and counts one Iranian deposit; neither its DOM
    nor any response its app sent holds a word of Iran's commitment. Oman's page lists both
    deposits, Iran's words included, and offers Match; the US's offers no Match."""
    alias, apps = muscat
    us, oman = View(browser, apps["us"]), View(browser, apps["oman"])
    try:
        us.page.locator('#nav a[data-page="escrow"]').click()
        mine = us.page.locator(f'#page-escrow section[data-talks="{alias}"]')
        expect(mine.locator(f'tr[data-deposit="{US}"]')).to_be_visible()
        expect(mine.locator('.escrow-sealed tr[data-party="iran"] td')).to_have_text("1")
        expect(mine.get_by_role("button", name="Match", exact=True)).to_be_hidden()
        expect(mine.locator(f'tr[data-deposit="{IRAN}"]')).to_have_count(0)
        us.shoot("us-escrow.png")
        seen = us.page.content() + api_bodies(us)
        assert not [w for w in IRAN_WORDS if w in seen]
        assert IRAN not in seen  # not even its id: a count

        oman.page.locator('#nav a[data-page="escrow"]').click()
        theirs = oman.page.locator(f'#page-escrow section[data-talks="{alias}"]')
        expect(theirs.locator("tr[data-deposit]")).to_have_count(2)
        expect(theirs.locator(f'tr[data-deposit="{IRAN}"]')).to_contain_text(IRAN_WORDS[0])
        expect(theirs.locator(f'tr[data-deposit="{US}"]')).to_contain_text("Brett McGurk")
        theirs.get_by_role("button", name="Match", exact=True).click()
        expect(theirs.locator(".escrow-result")).to_contain_text("No match")
        oman.shoot("mediator-escrow.png")
    finally:
        us.close()
        oman.close()


def test_the_arabic_escrow_page_reads_right_to_left_and_passes_axe(
    browser: Browser,  # noqa: F811
    muscat: tuple[str, dict[str, App]],
) -> None:
    """The US page in Arabic: right to left, its headings in Arabic, and no serious or critical
    axe-core violation on the Escrow page; in Persian, right to left and in Persian."""
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: `make browser` installs it from npm")
    alias, apps = muscat
    view = View(browser, apps["us"], lang="ar", bypass_csp=True)
    try:
        view.page.add_script_tag(path=str(AXE))
        assert view.page.locator("html").get_attribute("dir") == "rtl"
        view.page.locator('#nav a[data-page="escrow"]').click()
        section = view.page.locator(f'#page-escrow section[data-talks="{alias}"]')
        expect(section.locator(f'tr[data-deposit="{US}"]')).to_be_visible()
        expect(section.locator("caption").first).to_have_text("إيداعات طرفك")
        result = view.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, bad
    finally:
        view.close()
    persian = View(browser, apps["us"], lang="fa")
    try:
        persian.page.locator('#nav a[data-page="escrow"]').click()
        section = persian.page.locator(f'#page-escrow section[data-talks="{alias}"]')
        expect(section.locator("caption").first).to_have_text("سپرده‌های طرف شما")
        assert persian.page.locator("html").get_attribute("dir") == "rtl"
    finally:
        persian.close()


def test_the_us_page_deposits_from_its_form_and_withdraws(
    browser: Browser,  # noqa: F811
    muscat: tuple[str, dict[str, App]],
) -> None:
    """The US fills the deposit form (what it gives, Iran's act it requires, not before): its
    new deposit appears, open, in its own table; an Amend with broken JSON shows the engine's
    refusal in place; Withdraw marks it withdrawn. Iran's page never shows its words."""
    alias, apps = muscat
    deposit_id = f"us-form-{secrets.token_hex(3)}"
    view = View(browser, apps["us"])
    try:
        view.page.locator('#nav a[data-page="escrow"]').click()
        section = view.page.locator(f'#page-escrow section[data-talks="{alias}"]')
        form = section.locator("form.escrow-deposit")
        form.get_by_label("Its id", exact=True).fill(deposit_id)
        form.get_by_label("What it says, in words (optional)").fill("zq-form-canary")
        form.get_by_label(
            "It gives (one action per line: its id, then what it is)", exact=True
        ).fill("us.release_funds Release frozen funds")
        form.get_by_label("gives (one action per line: its id, then what it is)", exact=True).fill(
            "iran.restrain_groups Rein in allied groups"
        )
        form.get_by_label("And not before: the required actions are done first").check()
        form.get_by_role("button", name="Deposit sealed").click()
        expect(form.locator("p.done")).to_contain_text(deposit_id)
        row = section.locator(f'tr[data-deposit="{deposit_id}"]')
        expect(row.locator("[data-status]")).to_have_attribute("data-status", "open")
        expect(row).to_contain_text("us.release_funds")
        row.get_by_label(f"Amend {deposit_id}").click()
        row.get_by_label("The commitment (JSON)").fill("{broken")
        row.get_by_role("button", name="Deposit the new version").click()
        expect(section.locator("p.error").first).to_contain_text("[escrow.malformed]")
        row.get_by_role("button", name=f"Withdraw {deposit_id}").click()
        expect(row.locator("[data-status]")).to_have_attribute("data-status", "withdrawn")
    finally:
        view.close()
    iran = json.dumps(escrow(apps["iran"], alias), ensure_ascii=False)
    assert "zq-form-canary" not in iran and "us.release_funds" not in iran


# --- the API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_needs_the_token_and_the_apps_origin(
    muscat: tuple[str, dict[str, App]], route: str
) -> None:
    """Without the token (or with another app's) each route is 403 ui.token_missing; with the
    token but another Origin, 403 ui.origin_refused; neither answers a word of the escrow."""
    alias, apps = muscat
    method, path = route.split()
    url = apps["oman"].base + path
    for headers in ({}, {"authorization": f"Bearer {apps['us'].token}"}):
        sent = {"origin": apps["oman"].base, **headers}
        if method == "GET":
            response = httpx.get(url, params={"talks": alias}, headers=sent)
        else:
            response = httpx.post(url, json=_body(route, alias), headers=sent)
        assert problem(response, 403, "ui.token_missing") is not None
        assert IRAN not in response.text and US not in response.text
    own = {"authorization": f"Bearer {apps['oman'].token}", "origin": "http://127.0.0.1:9"}
    if method == "GET":
        response = httpx.get(url, params={"talks": alias}, headers=own)
    else:
        response = httpx.post(url, json=_body(route, alias), headers=own)
    problem(response, 403, "ui.origin_refused")
    assert IRAN not in response.text


def test_the_views_are_the_devices_own(muscat: tuple[str, dict[str, App]]) -> None:
    """The US's view: its deposit in full (by its member, named), Iran's counted; Oman's: both
    deposits and every party's count; Iran's: its own, the US counted."""
    alias, apps = muscat
    us = escrow(apps["us"], alias)
    assert {d["party"] for d in us["deposits"]} == {"us"} and not us["mediating"]
    (mine,) = [d for d in us["deposits"] if d["id"] == US]  # other tests may add their own
    assert mine["member"]["name"].startswith("Brett McGurk")
    assert us["sealed"]["iran"] == 1 and "us" not in us["sealed"]
    assert not [w for w in IRAN_WORDS if w in json.dumps(us, ensure_ascii=False)]
    oman = escrow(apps["oman"], alias)
    assert oman["mediating"] and {d["id"] for d in oman["deposits"]} >= {IRAN, US}
    iran = escrow(apps["iran"], alias)
    assert {d["party"] for d in iran["deposits"]} == {"iran"} and iran["sealed"]["us"] >= 1


@pytest.mark.parametrize(
    ("route", "body", "status", "code"),
    [
        ("/api/escrow/deposit", {"text": "not json"}, 400, "escrow.malformed"),
        ("/api/escrow/deposit", {"text": '{"commitments": []}'}, 400, "escrow.malformed"),
        (
            "/api/escrow/deposit",
            {"text": json.dumps({"commitments": [{"id": "ui-x", "party": "us", "gives": "no"}]})},
            400,
            "escrow.malformed",
        ),
        (
            "/api/escrow/compose",
            {
                "id": "ui-term",
                "gives": "us.talk Talk",
                "requires": "",
                "term": {"action": "us.other", "term": "t", "kind": "offer", "min": 1},
            },
            400,
            "escrow.malformed",
        ),
        (
            "/api/escrow/compose",
            {"id": "ui-bad", "gives": "", "requires": "iran.x", "requires_by": ""},
            400,
            "form.invalid",
        ),
        ("/api/escrow/compose", {"id": "ui-bad", "mode": "some"}, 400, "form.invalid"),
        ("/api/escrow/amend", {"deposit": US, "text": "{}"}, 400, "escrow.malformed"),
        ("/api/escrow/withdraw", {"deposit": IRAN}, 403, "escrow.not_own"),
        ("/api/escrow/withdraw", {"deposit": "ui-none"}, 404, "escrow.unknown"),
        ("/api/escrow/match", {}, 403, "escrow.not_mediator"),
        ("/api/escrow/deposit", {"text": "{}", "extra": 1}, 400, "form.invalid"),
    ],
)
def test_a_refused_act_is_the_engines_and_changes_nothing(
    muscat: tuple[str, dict[str, App]],
    route: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    """Each bad request of the US's page is refused with the engine's (or the form's) code, and
    the escrow every device shows is as it was: nothing was stored or sent."""
    alias, apps = muscat
    before = {name: escrow(app, alias) for name, app in apps.items()}
    problem(post(apps["us"], route, {"talks": alias, **body}), status, code)
    assert {name: escrow(app, alias) for name, app in apps.items()} == before


def test_the_mediator_finds_no_match_in_muscat(muscat: tuple[str, dict[str, App]]) -> None:
    """Oman's Match over Muscat: no match, the deadlock explained, nothing announced."""
    alias, apps = muscat
    result = post(apps["oman"], "/api/escrow/match", {"talks": alias}).raise_for_status().json()
    assert result["matched"] is False and result["match"] is None
    assert "Each side's step waits on the other's" in result["deadlock"]
    assert escrow(apps["oman"], alias)["matches"] == []


def test_a_party_composes_amends_and_withdraws_its_own(
    muscat: tuple[str, dict[str, App]],
) -> None:
    """The US composes a deposit of its own (it requires an Iranian act nobody offers, so it
    matches nothing), sees it as version 1, amends it to version 2 (the mediator sees that),
    and withdraws it; Iran's page counts it while open, never reading it."""
    alias, apps = muscat
    deposit_id = f"us-ui-{secrets.token_hex(3)}"
    form = {
        "talks": alias,
        "id": deposit_id,
        "description": "zq-ui-canary: talks if attacks stop",
        "gives": "us.talks Open direct talks",
        "requires": "iran.restrain_groups Rein in allied groups",
        "requires_by": "iran",
        "not_before": True,
        "term": {"action": "us.talks", "term": "rounds", "kind": "offer", "min": 1, "max": 3},
    }
    done = post(apps["us"], "/api/escrow/compose", form).raise_for_status().json()
    assert (done["deposit"], done["version"], done["status"]) == (deposit_id, 1, "open")
    (held,) = [d for d in escrow(apps["us"], alias)["deposits"] if d["id"] == deposit_id]
    assert held["commitment"]["party"] == "us"
    assert held["commitment"]["not_before"] == ["iran.restrain_groups"]
    assert held["commitment"]["terms"] == [
        {"action": "us.talks", "term": "rounds", "offer": {"min": 1, "max": 3}}
    ]
    text = held["text"].replace("talks if attacks stop", "talks once attacks stop")
    body = {"talks": alias, "deposit": deposit_id, "text": text}
    assert post(apps["us"], "/api/escrow/amend", body).raise_for_status().json()["version"] == 2

    def mediator_sees() -> bool:
        shown = escrow(apps["oman"], alias)["deposits"]
        return any(d["id"] == deposit_id and d["version"] == 2 for d in shown)

    wait_for(mediator_sees)
    iran = json.dumps(escrow(apps["iran"], alias), ensure_ascii=False)
    assert "zq-ui-canary" not in iran and deposit_id not in iran
    body = {"talks": alias, "deposit": deposit_id}
    done = post(apps["us"], "/api/escrow/withdraw", body).raise_for_status().json()
    assert done["status"] == "withdrawn"


def test_the_reciprocal_match_and_its_plan(
    browser: Browser,  # noqa: F811
    reciprocal: tuple[str, dict[str, App]],
) -> None:
    """In the reciprocal demo, every party's page shows the announced match: both commitments,
    one simultaneous stage verified by Oman, the reduction settled at 75."""
    alias, apps = reciprocal
    for name in ("us", "iran", "oman"):
        (found,) = escrow(apps[name], alias)["matches"]
        assert found["plan"][0]["simultaneous"] and found["plan"][0]["verified_by"] == "oman"
        assert found["settled"][0]["value"] == 75 and len(found["commitments"]) == 2
    view = View(browser, apps["us"])
    try:
        view.page.locator('#nav a[data-page="escrow"]').click()
        shown = view.page.locator(f'#page-escrow section[data-talks="{alias}"] .escrow-match')
        expect(shown.locator("ol.plan > li")).to_have_count(1)
        expect(shown).to_contain_text("Together, at the same time, verified by")
        expect(shown).to_contain_text("75")
    finally:
        view.close()
