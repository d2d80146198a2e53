"""The web app in a real Chromium (Debian's, driven by Playwright): the three views end to end.

Iran's delegation sends one ``mediator-only`` and one ``carry-gist`` message from its page; the
mediator's console cannot relay the first (buttons disabled with the reason, and the app refuses
whatever the page sends) and relays a gist of the second; the US page shows the gist as the
mediator's words and never the original, neither in its DOM nor in any response its app sent.
The Arabic page is right-to-left; every page passes axe-core with no serious or critical
violation; a lost connection shows a banner and keeps what was typed. Screenshots of the three
views (and of the mediator's other pages) are taken every run, and written to the directory named
by ``BACKCHANNEL_SCREENSHOTS`` (``make screenshots``: ``docs/screenshots/``), else to a temporary
one, so that ``make test`` leaves the checkout as it found it.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect, sync_playwright

from tests.ui.conftest import TITLE_AR, App

pytestmark = pytest.mark.xdist_group("ui")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BACKCHANNEL_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(os.environ.get("BACKCHANNEL_AXE", ROOT / ".venv/node/node_modules/axe-core/axe.min.js"))
SHOTS = Path(
    os.environ.get("BACKCHANNEL_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "backchannel-screenshots"
)
#: Flags for a closed network (no background connections) and running as root in CI.
FLAGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: What each page shows once its data is in, and the button that computes its result.
SHOWN = {
    "record": "table.timeline",
    "analysis": "section.preferences",
    "escrow": "section.escrow-talks",
    "text": "section.negotiating-text",
}
PRESS: dict[str, str] = {}
TIMEOUT = 20_000  # ms: the apps sync with the host every 2 s at most; CI machines are busy
expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make browser` installs Debian's package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, chromium_sandbox=False, args=FLAGS
        )
        yield launched
        launched.close()


class View:
    """One app open in its own browser context, with every response it received."""

    def __init__(self, browser: Browser, app: App, lang: str | None = None, **options: Any):
        self.context: BrowserContext = browser.new_context(
            viewport={"width": 1440, "height": 900}, **options
        )
        self.context.set_default_timeout(TIMEOUT)
        self.page: Page = self.context.new_page()
        self.responses: list[Response] = []
        self.page.on("response", self._seen)
        self.page.goto(app.url(lang))
        expect(self.page.locator("#main")).to_have_attribute("aria-busy", "false")

    def _seen(self, response: Response) -> None:
        self.responses.append(response)

    def room(self, room: str) -> Any:
        return self.page.locator(f'section.room[data-room="{room}"]')

    def message(self, room: str, text: str) -> Any:
        return self.room(room).locator("li.message", has_text=text)

    def send(self, room: str, text: str, label: str | None) -> None:
        form = self.room(room).locator("form.send")
        form.locator("textarea").fill(text)
        if label is not None:
            form.locator(f'input[type=radio][value="{label}"]').check()
        form.get_by_role("button").click()

    def bodies(self) -> str:
        """Everything the app answered this page, but the event stream (it never ends)."""
        seen = []
        for response in self.responses:
            if 300 <= response.status < 400:
                continue  # the token exchange: a redirect has no body
            if "text/event-stream" in response.headers.get("content-type", ""):
                continue
            seen.append(response.body().decode("utf-8", "replace"))
        return "\n".join(seen)

    def shoot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / name), full_page=True)

    def close(self) -> None:
        self.context.close()


def test_a_gist_crosses_the_table_and_the_original_never_does(
    browser: Browser, apps: dict[str, App]
) -> None:
    tag = secrets.token_hex(3)
    private = f"For Oman alone: our real red line is the Red Sea ({tag})."
    source = f"Iran could consider a pause in the attacks, not a full stop ({tag})."
    gist = f"Tehran signals some room on timing ({tag})."
    iran, oman, us = (View(browser, apps[name]) for name in ("iran", "oman", "us"))
    try:
        # No silent default: without a chosen label nothing is sent, and the text stays typed.
        iran.send("iran-caucus", private, None)
        form = iran.room("iran-caucus").locator("form.send")
        expect(form.locator("p.error")).to_be_visible()
        expect(form.locator("textarea")).to_have_value(private)
        form.locator('input[value="mediator-only"]').check()
        form.get_by_role("button").click()
        expect(iran.message("iran-caucus", private)).to_be_visible()
        iran.send("iran-caucus", source, "carry-gist")
        expect(iran.message("iran-caucus", source)).to_be_visible()

        # The mediator sees both, live; the mediator-only one cannot be carried at all.
        held = oman.message("iran-caucus", private)
        expect(held).to_be_visible()
        for mode in ("verbatim", "gist"):
            expect(held.locator(f'button[data-action="{mode}"]')).to_be_disabled()
        expect(held.locator("[data-reason]")).to_be_visible()
        refused = oman.page.evaluate(
            """async (source) => {
                try {
                    await backchannel.api("/api/relay", {talks: "muscat", source, room: "us-caucus",
                                                         mode: "gist", text: "anything"});
                    return null;
                } catch (problem) { return problem.code; }
            }""",
            held.get_attribute("data-message"),
        )
        assert refused == "relay.label_forbids"

        # A gist: only in the mediator's own words, the editor starts empty beside the source.
        carried = oman.message("iran-caucus", source)
        expect(carried.locator('button[data-action="verbatim"]')).to_be_disabled()
        carried.locator('button[data-action="gist"]').click()
        editor = oman.page.locator("#relay-editor")
        expect(editor).to_be_visible()
        expect(editor.locator("#relay-text")).to_have_value("")
        expect(editor.locator("#relay-source")).to_have_text(source)
        editor.locator("#relay-text").fill(gist)
        editor.locator("#relay-room").select_option("us-caucus")
        editor.locator("#relay-submit").click()
        expect(editor).to_be_hidden()
        expect(oman.message("us-caucus", gist)).to_be_visible()

        # The US sees the mediator's words, marked as such, and never what Iran said.
        arrived = us.message("us-caucus", gist)
        expect(arrived).to_be_visible()
        expect(arrived.locator('[data-carried="gist"]')).to_be_visible()
        expect(arrived.locator("p.text")).to_have_attribute("dir", "auto")
        html = us.page.content()
        traffic = us.bodies()
        assert gist in html and gist in traffic
        for words in (private, source):
            assert words not in html
            assert words not in traffic

        oman.shoot("mediator.png")
        iran.shoot("iran.png")
        us.shoot("us.png")
    finally:
        for view in (iran, oman, us):
            view.close()


def test_the_arabic_page_reads_right_to_left(browser: Browser, apps: dict[str, App]) -> None:
    view = View(browser, apps["iran"], "ar")
    try:
        root = view.page.locator("html")
        expect(root).to_have_attribute("dir", "rtl")
        expect(root).to_have_attribute("lang", "ar")
        expect(view.page.locator('#nav a[data-page="rooms"]')).to_have_text("الغرف")
        direction = view.page.evaluate("getComputedStyle(document.body).direction")
        assert direction == "rtl"
        view.shoot("iran-ar.png")
    finally:
        view.close()


def test_the_arabic_view_says_names_in_arabic_and_never_ids(
    browser: Browser, apps: dict[str, App]
) -> None:
    """Iran's Arabic page titles the talks, names its member and party, and calls its unnamed
    device after its member in Arabic; its Record page says who acted by name ("the root
    authority of Sultanate of Oman", "Ali Bagheri Kani of Iran"), in Arabic, not by id."""
    view = View(browser, apps["iran"], "ar")
    try:
        page = view.page
        expect(page.locator("section.talks h2")).to_contain_text(TITLE_AR)
        expect(page.locator("section.talks p.who")).to_contain_text("علي باقري كني")
        expect(page.locator("section.talks p.who")).to_contain_text("إيران")
        expect(page.locator("#whoami")).to_contain_text("علي باقري كني")
        expect(page.locator("#whoami")).not_to_contain_text("—")
        expect(page.locator("section.room h3").first).to_contain_text("إيران")
        # The room's members by name too (messages' authors go through the same lookup).
        expect(page.locator("section.room p.muted").first).to_contain_text("علي باقري كني")
        room_line = page.locator("section.room p.muted").first.inner_text()
        assert "bagheri" not in room_line and "envoy" not in room_line, room_line
        page.locator('#nav a[data-page="record"]').click()
        record = page.locator("#page-record")
        expect(record.locator("table.timeline").first).to_be_visible()
        expect(record.locator("section.record h3")).to_contain_text(TITLE_AR)
        actors = record.locator("table.timeline tbody th")
        expect(actors.filter(has_text="السلطة الأصلية لـسلطنة عُمان").first).to_be_visible()
        expect(actors.filter(has_text="علي باقري كني من إيران").first).to_be_visible()
        said = " ".join(actors.all_inner_texts()) + record.locator("table.timeline").inner_text()
        for an_id in ("oman", "iran", "bagheri", "mcgurk", "envoy"):
            assert an_id not in said, an_id
        view.shoot("iran-ar-record.png")
    finally:
        view.close()


def test_a_lost_connection_shows_a_banner_and_keeps_the_typed_text(
    browser: Browser, apps: dict[str, App]
) -> None:
    view = View(browser, apps["us"])
    words = f"Draft typed while the app was unreachable ({secrets.token_hex(3)})."
    try:
        view.context.set_offline(True)
        view.send("us-caucus", words, "carry-verbatim")
        form = view.room("us-caucus").locator("form.send")
        expect(form.locator("p.error")).to_contain_text("[network]")
        expect(view.page.locator("#banner")).to_be_visible()
        expect(form.locator("textarea")).to_have_value(words)
        view.context.set_offline(False)
        expect(view.page.locator("#banner")).to_be_hidden()
        form.get_by_role("button").click()
        expect(view.message("us-caucus", words)).to_be_visible()
        expect(form.locator("textarea")).to_have_value("")
    finally:
        view.close()


RED_SEA = (
    "Attacks on commercial shipping in the Red Sea cease [from the date of this understanding "
    "| once a ceasefire in Gaza takes effect], and [the parties consult through Oman on any "
    "incident]."
)


def test_the_mediator_drafts_the_text_and_a_party_sees_why_it_cannot_agree(
    browser: Browser, apps: dict[str, App]
) -> None:
    """The mediator writes the demo article on its Text page: both brackets are marked, the
    status is "bracketed". The US page shows the same article with Agree disabled and the
    engine's reason (its member holds 'propose'), and no editor. The mediator downloads a
    marked copy for Iran's member (under the page's CSP) and, pasting it into the trace box,
    sees him identified. (axe checks the Text page of every view in the test after this one.)"""
    oman, us = View(browser, apps["oman"]), View(browser, apps["us"])
    try:
        oman.page.locator('#nav a[data-page="text"]').click()
        form = oman.page.locator("#page-text form.new-article")
        form.get_by_label("Article id").fill("art-red-sea")
        form.get_by_label("Title").fill("Red Sea shipping")
        form.get_by_role("textbox", name="Text").fill(RED_SEA)
        form.get_by_role("button", name="Draft the article").click()
        mine = oman.page.locator('#page-text article[data-article="art-red-sea"]')
        expect(mine.locator("[data-status]").first).to_have_attribute("data-status", "bracketed")
        marks = mine.locator("p.article-text mark.bracket")
        expect(marks).to_have_count(2)
        expect(marks.first).to_contain_text("once a ceasefire in Gaza takes effect")
        expect(marks.first.locator(".or")).to_have_text(" | ")
        expect(marks.first.locator(".visually-hidden")).to_have_text("bracketed: ")
        expect(mine.locator("p.article-text")).to_have_attribute("dir", "auto")
        expect(mine.locator('button[data-act="agree"]')).to_be_disabled()
        oman.shoot("mediator-text.png")

        copies = oman.page.locator('#page-text [data-talks="muscat"] section.copies')
        copies.get_by_label("Copy for").select_option("bagheri")
        with oman.page.expect_download() as downloading:
            copies.get_by_role("button", name="Download a marked copy").click()
        download = downloading.value
        assert download.suggested_filename == "muscat-text-bagheri.txt"
        copy = Path(download.path()).read_text(encoding="utf-8")
        assert "\u00a0" in copy and "once a ceasefire in Gaza" in copy.replace("\u00a0", " ")
        expect(copies.locator("p.done")).to_contain_text("Ali Bagheri Kani")  # its name, not its id
        copies.get_by_label("Leaked text").fill(copy)
        copies.get_by_role("button", name="Trace a leak").click()
        found = copies.locator(".trace-result")
        expect(found).to_have_attribute("data-verdict", "identified")
        expect(found).to_have_attribute("data-recipient", "bagheri")
        expect(found.locator(".verdict")).to_contain_text("Identified")

        us.page.locator('#nav a[data-page="text"]').click()
        theirs = us.page.locator('#page-text article[data-article="art-red-sea"]')
        expect(theirs.locator("mark.bracket")).to_have_count(2)
        expect(theirs.locator("[data-status]").first).to_have_text("Bracketed")
        agree = theirs.locator('button[data-act="agree"]')
        expect(agree).to_be_disabled()
        reason = us.page.locator("#" + (agree.get_attribute("aria-describedby") or "missing"))
        expect(reason).to_contain_text("[mandate.insufficient]")
        expect(us.page.locator("#page-text form.new-article")).to_be_hidden()
        expect(us.page.locator("#page-text p.standing")).to_contain_text("[text.not_pen_holder]")
    finally:
        oman.close()
        us.close()


@pytest.mark.parametrize("name", ["oman", "us", "iran"])
def test_every_page_passes_axe(browser: Browser, apps: dict[str, App], name: str) -> None:
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: `make browser` installs it from npm")
    # axe is injected as a script the app's CSP would refuse: this context bypasses CSP.
    view = View(browser, apps[name], bypass_csp=True)
    try:
        view.page.add_script_tag(path=str(AXE))
        pages = view.page.locator("#nav a").evaluate_all("links => links.map(a => a.dataset.page)")
        assert pages[0] == "rooms" and len(pages) >= 1
        found: dict[str, list[str]] = {}
        for page in pages:
            view.page.locator(f'#nav a[data-page="{page}"]').click()
            expect(view.page.locator(f"#page-{page}")).to_be_visible()
            node = view.page.locator(f"#page-{page}")
            if page in PRESS:  # show a result, so axe checks it (and the screenshot shows it)
                node.get_by_role("button", name=PRESS[page], exact=True).click()
            if page in SHOWN:
                expect(node.locator(SHOWN[page]).first).to_be_visible()
            if name == "oman" and page not in ("rooms", "text", "escrow"):
                # text: the test above; escrow: tests/ui/test_escrow.py, from the demo's deposits
                view.shoot(f"mediator-{page}.png")
            result = view.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            bad = [
                f"{v['id']} ({v['impact']}): {json.dumps([n['target'] for n in v['nodes']])}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                found[page] = bad
        assert not found, found
    finally:
        view.close()
