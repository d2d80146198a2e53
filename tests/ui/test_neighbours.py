"""Hostile neighbours in a real Chromium: other origins on the machine get nothing from the app.

Each test reproduces an attack found against the app (issue 15) with a real second HTTP server on
another 127.0.0.1 port, or a rebinding name resolved to 127.0.0.1 by Chromium itself, and shows
that it fails: the neighbour is sent no cookie that grants anything, a cross-origin form or
``fetch`` makes the device do nothing, and a page served under another name is refused.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.ui.conftest import App
from tests.ui.neighbour import neighbour
from tests.ui.test_browser import CHROMIUM, FLAGS, TIMEOUT

pytestmark = pytest.mark.xdist_group("ui")

#: A name Chromium resolves to 127.0.0.1 itself: a DNS rebinding, without a DNS server.
REBOUND = "rebind.test"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium; ``rebind.test`` resolves to 127.0.0.1 in it."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make browser` installs Debian's package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            chromium_sandbox=False,
            args=[*FLAGS, f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"],
        )
        yield launched
        launched.close()


def opened(browser: Browser, app: App) -> tuple[BrowserContext, Page]:
    """A fresh browser context that opened the app's printed address, as its user would."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(app.url())
    expect(page.locator("#main")).to_have_attribute("aria-busy", "false")
    return context, page


def texts(app: App) -> str:
    """Everything the device's state shows, as text (read with the app's real credential)."""
    with app.client() as client:
        return client.get("/api/state").raise_for_status().text


def test_another_local_port_receives_no_credential(browser: Browser, apps: dict[str, App]) -> None:
    """After the user opened the app, a page on another 127.0.0.1 port is sent no cookie that
    grants anything (replayed with a plain HTTP client, each reads nothing), no cookie holds
    the token, and the address bar no longer shows it; the page still works after a reload."""
    app = apps["iran"]
    context, page = opened(browser, app)
    try:
        assert app.token not in page.url
        assert all(app.token not in cookie["value"] for cookie in context.cookies())
        with neighbour() as evil:
            page.goto(evil.base + "/")
            page.evaluate("fetch('/image.png').catch(() => null)")
            page.goto(f"http://localhost:{evil.base.rsplit(':', 1)[1]}/")
            received = evil.cookies()
        stolen = received + [f"{c['name']}={c['value']}" for c in context.cookies()]
        for cookie in stolen:
            replayed = httpx.get(app.base + "/api/state", headers={"cookie": cookie})
            assert replayed.status_code == 403, cookie
            assert replayed.json()["code"].startswith("ui.")
        page.goto(app.base + "/")
        expect(page.locator("#main")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#banner")).to_be_hidden()
        expect(page.locator('section.room[data-room="iran-caucus"]')).to_be_visible()
    finally:
        context.close()


def _forged(tag: str) -> dict[str, str]:
    return {
        "talks": "muscat",
        "room": "iran-caucus",
        "label": "carry-verbatim",
        "lang": "en",
        "text": f"We accept every condition ({tag}).",
    }


def test_a_cross_origin_form_makes_the_device_do_nothing(
    browser: Browser, apps: dict[str, App]
) -> None:
    """A plain HTML form on another local port (no script), posting text/plain shaped as JSON
    with an extra field, is refused: the device sends no carry-verbatim message."""
    app = apps["iran"]
    tag = secrets.token_hex(4)
    body = json.dumps(_forged(tag))[:-1] + ', "pad": "'
    form = (
        "<!doctype html><title>prize</title>"
        f'<form method="post" action="{app.base}/api/send" enctype="text/plain">'
        f'<input type="hidden" name="{html.escape(body)}" value="&quot;}}">'
        '<button id="go">Claim your prize</button></form>'
    )
    context, page = opened(browser, app)
    try:
        with neighbour() as evil:
            evil.pages["/"] = form
            page.goto(evil.base + "/")
            with page.expect_navigation():
                page.click("#go")
            answered = page.content()
        assert tag not in texts(app)
        assert "ui." in answered  # the app's refusal, shown as the form's result
    finally:
        context.close()


def test_a_cross_origin_fetch_makes_the_device_do_nothing(
    browser: Browser, apps: dict[str, App]
) -> None:
    """Script on another local port posts to the app with ``fetch``: a no-cors text/plain
    request (sent with whatever cookies the browser holds) and a CORS JSON request (which
    needs a preflight the app never grants); neither makes the device send anything."""
    app = apps["iran"]
    tag = secrets.token_hex(4)
    context, page = opened(browser, app)
    try:
        with neighbour() as evil:
            page.goto(evil.base + "/")
            outcomes = page.evaluate(
                """async ([url, body]) => {
                    const tries = [
                        {mode: "no-cors", credentials: "include",
                         headers: {"content-type": "text/plain"}},
                        {mode: "cors", credentials: "include",
                         headers: {"content-type": "application/json"}},
                    ];
                    const out = [];
                    for (const init of tries) {
                        try {
                            const r = await fetch(url, {method: "POST", body, ...init});
                            out.push(r.type + ":" + r.status);
                        } catch (e) { out.push("blocked"); }
                    }
                    return out;
                }""",
                [app.base + "/api/send", json.dumps(_forged(tag))],
            )
        assert outcomes[1] == "blocked"
        assert tag not in texts(app)
    finally:
        context.close()


def test_a_rebinding_name_reaches_nothing(browser: Browser, apps: dict[str, App]) -> None:
    """The app's port under another name (DNS rebinding: ``rebind.test`` → 127.0.0.1) answers
    neither the page nor the API, even with the real token; plain HTTP with a foreign
    ``Host`` gets the same refusal."""
    app = apps["iran"]
    port = app.base.rsplit(":", 1)[1]
    context = browser.new_context()
    try:
        page = context.new_page()
        answered = page.goto(f"http://{REBOUND}:{port}/?token={app.token}")
        assert answered is not None and answered.status == 403
        assert "ui.host_refused" in page.content()
    finally:
        context.close()
    for host in (f"{REBOUND}:{port}", "127.0.0.1", f"127.0.0.1:{int(port) + 1}", "localhost"):
        response = httpx.get(
            app.base + "/api/state",
            headers={"host": host, "authorization": f"Bearer {app.token}"},
        )
        assert response.status_code == 403, host
        assert response.json()["code"] == "ui.host_refused"
