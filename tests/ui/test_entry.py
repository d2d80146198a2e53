"""Coming in: the app opened without its token says how to open it; its icon is served; a room
with no mediator in it does not offer "mediator only" (the state says which rooms have one)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.ui.conftest import App
from tests.ui.test_browser import FLAGS, TIMEOUT, browser  # noqa: F401 (the module's fixture)

pytestmark = pytest.mark.xdist_group("ui")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_without_the_token_the_page_says_how_to_open_it(
    browser: Browser,  # noqa: F811
    apps: dict[str, App],
    lang: str,
) -> None:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(f"{apps['us'].base}/?lang={lang}")  # no token: as if typed by hand
    notice = page.locator("p.no-token")
    expect(notice).to_be_visible()
    said = notice.inner_text()
    assert "?token=" in said
    assert ("access token" in said) == (lang == "en")  # the Arabic page says it in Arabic
    body = page.locator("body").inner_text()
    assert "ui.token_missing" not in body and "{" not in body  # a sentence, not raw JSON
    context.close()
    assert FLAGS  # the same browser flags as every UI test


def test_the_icon_is_served_without_the_token(apps: dict[str, App]) -> None:
    for path in ("/favicon.ico", "/static/favicon.svg"):
        answer = httpx.get(apps["us"].base + path, headers={"host": _host(apps["us"])})
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("image/svg+xml")
    # The API still needs it.
    assert httpx.get(apps["us"].base + "/api/state").status_code == 403


def test_the_state_says_which_rooms_have_a_mediator(apps: dict[str, App]) -> None:
    with apps["us"].client() as client:
        state = client.get("/api/state").json()
    [talks] = state["talks"]
    rooms = {room["id"]: room for room in talks["rooms"]}
    assert rooms and all(
        room["mediator_in_room"] == any(m == "envoy" for m in room["members"])
        for room in rooms.values()
    )


def _host(app: App) -> str:
    return app.base.removeprefix("http://")
