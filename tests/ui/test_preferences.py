"""Private preferences in the web app, over real apps and a real host: the mediator sets the
agenda, each party submits its scores from its own page, the mediator's page receives the
analysis, and no other party's page or API answer holds a trace of a party's scores.

The apps are shared by every test of ``tests/ui``: each test sets a fresh agenda (the next
version), so it never depends on what another test submitted.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.ui.conftest import App
from tests.ui.test_api import wait_for
from tests.ui.test_browser import AXE, View, browser  # noqa: F401 (browser: a fixture)

pytestmark = pytest.mark.xdist_group("ui")

ROUTES = [
    ("GET", "/api/preferences"),
    ("POST", "/api/preferences/agenda"),
    ("POST", "/api/preferences/scores"),
    ("POST", "/api/preferences/offer"),
]
AGENDA = {
    "issues": [
        {"id": "ceasefire", "name": "Ceasefire in Gaza", "options": ["none", "pause", "full"]},
        {"id": "attacks", "name": "Attacks on shipping", "options": ["continue", "halved"]},
    ]
}


def post(app: App, path: str, body: Any) -> httpx.Response:
    with app.client() as client:
        return client.post(path, json=body)


def shown(app: App) -> dict[str, Any]:
    """The muscat talks as the app's Analysis page receives them."""
    with app.client() as client:
        response = client.get("/api/preferences", params={"talks": "muscat"})
    response.raise_for_status()
    (talks,) = response.json()["talks"]
    data: dict[str, Any] = talks
    return data


def fresh_agenda(apps: dict[str, App]) -> int:
    """Oman sets the agenda again; the version every app then shows, once it synced."""
    made = post(apps["oman"], "/api/preferences/agenda", {"talks": "muscat", "agenda": AGENDA})
    version = int(made.raise_for_status().json()["agenda"]["version"])
    for name in ("us", "iran"):
        wait_for(lambda name=name: (shown(apps[name])["agenda"] or {}).get("version") == version)
    return version


def scores(note: str, ceasefire: int = 70) -> dict[str, Any]:
    """A scores request: ``ceasefire`` points of 100 on the first issue."""
    return {
        "talks": "muscat",
        "points": {"ceasefire": ceasefire, "attacks": 100 - ceasefire},
        "values": {
            "ceasefire": {"none": 0, "pause": 45, "full": 100},
            "attacks": {"continue": 100, "halved": 30},
        },
        "reservation": 20,
        "note": note,
    }


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_token_no_answer(apps: dict[str, App], method: str, path: str) -> None:
    """Without the token (or with another app's), every route answers 403 ui.token_missing."""
    for headers in ({}, {"authorization": f"Bearer {apps['oman'].token}"}):
        response = httpx.request(
            method,
            apps["us"].base + path,
            json={"talks": "muscat"} if method == "POST" else None,
            headers={"origin": apps["us"].base, **headers},
        )
        assert response.status_code == 403
        assert response.json()["code"] == "ui.token_missing"


def test_scores_reach_the_mediator_s_analysis_and_no_other_party(apps: dict[str, App]) -> None:
    """Iran and the US submit through their apps; every app shows both scored; Oman's answers
    the analysis over both; the US's answers its own scores and never Iran's (its note, a
    canary, in no answer of the US app)."""
    version = fresh_agenda(apps)
    canary = f"zq9-iran-note-{secrets.token_hex(4)}"
    done = post(apps["iran"], "/api/preferences/scores", scores(canary, ceasefire=83))
    assert done.raise_for_status().json()["mine"]["note"] == canary
    post(apps["us"], "/api/preferences/scores", scores("us", ceasefire=12)).raise_for_status()
    both = {"us": True, "iran": True}
    for name in ("oman", "us", "iran"):
        wait_for(lambda name=name: shown(apps[name])["submitted"] == both)
    oman = wait_for(lambda: shown(apps["oman"]).get("analysis"))
    assert oman["parties"] == ["us", "iran"] and oman["agenda"]["version"] == version
    assert oman["nash"] is not None and oman["adjusted_winner"] is not None
    us = shown(apps["us"])
    assert us["mine"]["points"] == {"ceasefire": 12, "attacks": 88}
    assert "analysis" not in us and "rooms" not in us
    with apps["us"].client() as client:
        everything = client.get("/api/preferences").text + client.get("/api/state").text
    assert canary not in everything and '"ceasefire": 83' not in everything
    iran = shown(apps["iran"])
    assert iran["mine"]["note"] == canary and iran["best"]["package"]["ceasefire"] == "full"


def test_bad_scores_and_agendas_are_refused_with_their_code(apps: dict[str, App]) -> None:
    """Points not summing to 100, an unknown option, a value out of range: 400 prefs.malformed;
    a party setting the agenda: 403 prefs.not_mediator; a bad body: 400 form.invalid; nothing
    changes."""
    fresh_agenda(apps)
    cases = [
        ({**scores("x"), "points": {"ceasefire": 70, "attacks": 20}}, "sum to 100, not 90"),
        ({**scores("x"), "values": {"ceasefire": {"truce": 5}}}, "'truce' is not an option"),
        (
            {
                **scores("x"),
                "values": {
                    "ceasefire": {"none": 0, "pause": 45, "full": 101},
                    "attacks": {"continue": 1, "halved": 2},
                },
            },
            "from 0 to 100",
        ),
    ]
    for body, why in cases:
        response = post(apps["iran"], "/api/preferences/scores", body)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "prefs.malformed" and why in response.json()["detail"]
    assert shown(apps["iran"])["mine"] is None or not shown(apps["iran"])["mine"]["current"]
    refused = post(apps["us"], "/api/preferences/agenda", {"talks": "muscat", "agenda": AGENDA})
    assert refused.status_code == 403 and refused.json()["code"] == "prefs.not_mediator"
    for body in (
        {**scores("x"), "points": {"ceasefire": "70"}},
        {**scores("x"), "extra": 1},
        {"talks": "muscat", "agenda": "issues"},
    ):
        path = "/api/preferences/agenda" if "agenda" in body else "/api/preferences/scores"
        response = post(apps["iran"], path, body)
        assert response.status_code == 400 and response.json()["code"] == "form.invalid"


def test_the_mediator_puts_a_package_as_an_offer(apps: dict[str, App]) -> None:
    """Oman's page offers the Nash package into the US caucus: an offer naming each issue and
    option, which the US reads; a party's offer of an unknown option is refused."""
    fresh_agenda(apps)
    post(apps["iran"], "/api/preferences/scores", scores("i", 60)).raise_for_status()
    post(apps["us"], "/api/preferences/scores", scores("u", 40)).raise_for_status()
    analysis = wait_for(lambda: shown(apps["oman"]).get("analysis"))
    assert "us-caucus" in {r["id"] for r in shown(apps["oman"])["rooms"]}
    body = {
        "talks": "muscat",
        "room": "us-caucus",
        "package": analysis["nash"]["package"],
        "label": "carry-verbatim",
    }
    made = post(apps["oman"], "/api/preferences/offer", body).raise_for_status().json()
    assert "Ceasefire in Gaza:" in made["text"]

    def offered() -> bool:
        with apps["us"].client() as client:
            return made["text"] in client.get("/api/state").text

    wait_for(offered)
    bad = {**body, "package": {**body["package"], "ceasefire": "forever"}}
    response = post(apps["oman"], "/api/preferences/offer", bad)
    assert response.status_code == 400 and response.json()["code"] == "analysis.invalid"


# --- in a real browser -----------------------------------------------------------------------


def test_a_party_fills_the_form_and_the_mediator_sees_the_analysis(
    browser: Browser,  # noqa: F811 (the fixture imported above)
    apps: dict[str, App],
) -> None:
    """Iran's page: 100 points over the issues with a running total, a value per option, a
    private note; points that do not sum to 100 are refused with the engine's code; submitted,
    the mediator's page shows Iran scored and draws the frontier, while the US page — its DOM
    and every answer its app sent — holds no trace of Iran's note."""
    fresh_agenda(apps)
    canary = f"zq9-browser-note-{secrets.token_hex(4)}"
    post(apps["us"], "/api/preferences/scores", scores("us", 35)).raise_for_status()
    iran, oman, us = (View(browser, apps[name]) for name in ("iran", "oman", "us"))
    try:
        for view in (iran, oman, us):
            view.page.locator('#nav a[data-page="analysis"]').click()
        form = iran.page.locator('#page-analysis section[data-talks="muscat"] form.scores-form')
        form.get_by_label("Points for Ceasefire in Gaza").fill("80")
        form.get_by_label("Points for Attacks on shipping").fill("10")
        total = form.locator("p.points-total")
        expect(total).to_have_attribute("data-total", "90")
        form.get_by_role("button", name="Submit my scores").click()
        expect(form.locator("p.error")).to_contain_text("[prefs.malformed]")
        form.get_by_label("Points for Attacks on shipping").fill("20")
        expect(total).to_have_text("Points given: 100 of 100")
        issue = form.locator('fieldset[data-issue="ceasefire"]')
        issue.get_by_label("Value of “pause”").fill("35")
        form.get_by_label("Private note (sent with the scores, to the same devices only)").fill(
            canary
        )
        form.get_by_role("button", name="Submit my scores").click()
        expect(form.locator("p.done")).to_contain_text("Submitted")

        mine = oman.page.locator('#page-analysis section[data-talks="muscat"]')
        expect(mine.locator('ul.scored li[data-party="iran"]')).to_have_attribute(
            "data-scored", "yes"
        )
        expect(mine.locator("svg.chart")).to_be_visible()
        expect(mine.locator("form.offer-form")).to_be_visible()
        oman.shoot("mediator-preferences.png")

        theirs = us.page.locator('#page-analysis section[data-talks="muscat"]')
        expect(theirs.locator('ul.scored li[data-party="iran"]')).to_have_attribute(
            "data-scored", "yes"
        )
        expect(theirs.locator("form.scores-form")).to_be_visible()
        expect(theirs.locator("svg.chart")).to_have_count(0)
        assert canary not in us.page.content()
        assert canary not in us.bodies()
    finally:
        for view in (iran, oman, us):
            view.close()


def test_the_arabic_analysis_page_reads_right_to_left_and_passes_axe(
    browser: Browser,  # noqa: F811 (the fixture imported above)
    apps: dict[str, App],
) -> None:
    """Iran's Analysis page in Arabic: right to left, its form in Arabic, no serious or critical
    axe violation."""
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: `make browser` installs it from npm")
    fresh_agenda(apps)
    view = View(browser, apps["iran"], lang="ar", bypass_csp=True)
    try:
        view.page.add_script_tag(path=str(AXE))
        view.page.locator('#nav a[data-page="analysis"]').click()
        section = view.page.locator('#page-analysis section[data-talks="muscat"]')
        expect(section.locator("form.scores-form")).to_be_visible()
        expect(view.page.locator("html")).to_have_attribute("dir", "rtl")
        expect(section.get_by_role("button", name="أرسل تقييماتي")).to_be_visible()
        result = view.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == []
        view.shoot("iran-ar-preferences.png")
    finally:
        view.close()
