"""The Documents panel in a real Chromium (Debian's, driven by Playwright, as test_browser.py).

Iran's delegation drops a PDF onto its caucus's panel, picks a carry label and sends it; the
progress bar runs to its end; the page shows the PDF's pages, rendered by the app from Iran's own
stamped copy. The mediator's page downloads its own stamped copy and carries the PDF word for
word into the US caucus; dropped into the trace box of Iran's panel, the mediator's copy names
the mediator's member. A new version chosen in "New version of" lists under its latest with
its diff; a long PDF shows five pages at a time. A ``mediator-only`` document Iran sends
never reaches the US page, neither its DOM nor any response its app sent. The panel in Arabic
reads right to left and passes axe-core; screenshots of both go with the others
(``BACKCHANNEL_SCREENSHOTS``, ``make screenshots``). A page on another local port cannot post a
file to the upload route, in any mode.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.ui.conftest import App
from tests.ui.neighbour import neighbour
from tests.ui.test_browser import AXE, View, browser  # noqa: F401 (the module's fixture)
from tests.ui.test_documents import (
    eventually,
    ids,
    leftovers,
    listed,
    pdf_bytes,
    upload,
    visible_text,
)

pytestmark = pytest.mark.xdist_group("ui")

#: The panel's heading in each language (from the catalogues, as the page shows it).
HEADINGS = {"en": "Documents", "ar": "المستندات"}


def panel(view: View, room: str) -> Locator:
    """The Documents panel of ``room`` on the view's Rooms page."""
    found: Locator = view.room(room).locator("section.documents-panel")
    return found


def drop(page: Page, zone: Locator, name: str, data: bytes, media: str) -> None:
    """Drop a file onto ``zone``, as a user dragging it from their desktop does."""
    transfer = page.evaluate_handle(
        """([name, b64, media]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: media }));
            return transfer;
        }""",
        [name, base64.b64encode(data).decode("ascii"), media],
    )
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    zone.dispatch_event("drop", {"dataTransfer": transfer})


def send(
    view: View, room: str, name: str, data: bytes, label: str, *, supersedes: str = ""
) -> Locator:
    """Drop a file onto the room's panel, choose its label (and what it is a new version of),
    send it; the document's item. The form is empty again afterwards: no label stays chosen."""
    form = panel(view, room).locator("form.send-document")
    drop(view.page, form.locator("[data-drop]"), name, data, "application/octet-stream")
    expect(form.locator("p.chosen")).to_contain_text(name)
    form.locator(f'input[type=radio][value="{label}"]').check()
    if supersedes:
        form.get_by_label("New version of").select_option(supersedes)
    form.get_by_role("button", name="Send the document").click()
    bar = form.locator("progress")
    expect(bar).to_have_attribute("data-phase", "done")
    assert bar.evaluate("bar => bar.value") == 100
    expect(form.locator("p.progress-status")).to_contain_text(name)
    expect(form.locator("input[type=radio]:checked")).to_have_count(0)
    item = panel(view, room).locator("li.document", has_text=name)
    expect(item.first).to_be_visible()
    return item.first


def test_a_pdf_is_sent_shown_downloaded_and_its_leak_named(
    browser: Browser,  # noqa: F811
    apps: dict[str, App],
    tmp_path: Path,
) -> None:
    tag = secrets.token_hex(3)
    name = f"non-paper-{tag}.pdf"
    iran, oman = View(browser, apps["iran"]), View(browser, apps["oman"])
    try:
        words = f"A reduction of attacks ({tag})."
        item = send(iran, "iran-caucus", name, pdf_bytes(words), "carry-verbatim")
        expect(item.locator(".author")).to_have_text("Ali Bagheri Kani")  # a name, not an id
        item.get_by_role("button", name="View", exact=True).click()
        page = item.locator('.viewer img[data-page="1"]')
        expect(page).to_be_visible()
        assert page.evaluate("img => img.complete && img.naturalWidth > 500")
        assert (page.get_attribute("src") or "").startswith("data:image/png;base64,")
        iran.shoot("documents.png")

        theirs = panel(oman, "iran-caucus").locator("li.document", has_text=name)
        expect(theirs).to_be_visible()
        with oman.page.expect_download() as downloading:
            theirs.get_by_role("button", name="Download my stamped copy").click()
        download = downloading.value
        assert download.suggested_filename == name
        copy = Path(download.path()).read_bytes()
        assert copy.startswith(b"%PDF-") and "Omani official" in visible_text(copy)
        expect(theirs.locator("p.downloaded")).to_contain_text("stamped copy")
        carry = theirs.locator(".document-relay")
        carry.get_by_label("Carry into").select_option("us-caucus")
        carry.get_by_role("button", name="Carry word for word").click()
        expect(carry.locator("p.done")).to_contain_text("Carried into Caucus of United States")

        leak = tmp_path / "leaked.pdf"
        leak.write_bytes(copy)
        trace = item.locator("details.trace")
        trace.locator("summary").click()
        trace.locator("input[type=file]").set_input_files(str(leak))
        found = trace.locator(".trace-result")
        expect(found).to_have_attribute("data-verdict", "identified")
        expect(found).to_have_attribute("data-recipient", "envoy")
        expect(found.locator(".verdict")).to_contain_text("Omani official")
        expect(found).to_contain_text("Chance of another copy matching as well")
    finally:
        iran.close()
        oman.close()


def test_a_mediator_only_document_never_reaches_the_other_party(
    browser: Browser,  # noqa: F811
    apps: dict[str, App],
) -> None:
    tag = secrets.token_hex(3)
    name = f"red-line-{tag}.txt"
    words = f"For Oman alone: the real red line ({tag})."
    iran, oman = View(browser, apps["iran"]), View(browser, apps["oman"])
    try:
        send(iran, "iran-caucus", name, words.encode(), "mediator-only")
        held = panel(oman, "iran-caucus").locator("li.document", has_text=name)
        expect(held).to_be_visible()
        expect(held.locator('button[data-action="relay-verbatim"]')).to_have_count(0)
        held.get_by_role("button", name="View", exact=True).click()
        expect(held.locator(".viewer pre.document-text")).to_have_text(words)
    finally:
        iran.close()
        oman.close()
    us = View(browser, apps["us"])
    try:
        expect(panel(us, "us-caucus").locator("ol.documents > li").first).to_be_visible()
        html, traffic = us.page.content(), us.bodies()
        assert "/api/documents" in " ".join(r.url for r in us.responses)
        for said in (name, words):
            assert said not in html
            assert said not in traffic
    finally:
        us.close()


def test_a_new_version_is_listed_under_its_latest_with_its_diff(
    browser: Browser,  # noqa: F811
    apps: dict[str, App],
) -> None:
    """Iran sends a text file, then a new version of it chosen in "New version of": the panel
    lists one chain, newest first, and the new version shows what changed."""
    tag = secrets.token_hex(3)
    name = f"points-{tag}.txt"
    iran = View(browser, apps["iran"])
    try:
        first = send(iran, "iran-caucus", name, b"one\ntwo\n", "carry-gist")
        older = first.get_attribute("data-document") or ""
        newer = send(iran, "iran-caucus", name, b"one\n2\n", "carry-gist", supersedes=older)
        expect(newer).not_to_have_attribute("data-document", older)
        chain = newer.locator("details.versions")
        expect(chain.locator("summary")).to_have_text("2 versions, newest first")
        chain.locator("summary").click()
        expect(chain.locator("li").last).to_have_attribute("data-version", older)
        alone = panel(iran, "iran-caucus").locator(f'li.document[data-document="{older}"]')
        expect(alone).to_have_count(0)  # not a chain of its own
        newer.get_by_role("button", name="View", exact=True).click()
        expect(newer.locator("pre.document-text")).to_have_text("one\n2\n")
        expect(newer.locator("pre.diff .diff-removed")).to_have_text(["-two\n"])
        expect(newer.locator("pre.diff .diff-added")).to_have_text(["+2\n"])
    finally:
        iran.close()


@pytest.fixture(scope="module")
def shown(apps: dict[str, App]) -> str:
    """A PDF of Iran's in its caucus, for the Arabic panel to show."""
    tag = secrets.token_hex(3)
    name = f"مبادئ-{tag}.pdf"
    query = {"talks": "muscat", "room": "iran-caucus", "name": name, "label": "carry-gist"}
    response = upload(apps["iran"], pdf_bytes(f"خفض الهجمات في المنطقة ({tag})."), **query)
    assert response.status_code == 200, response.text
    document: str = response.json()["document"]
    eventually(lambda: document in ids(apps["iran"], "iran-caucus"), "listed")
    return name


def test_the_arabic_panel_reads_right_to_left_and_passes_axe(
    browser: Browser,  # noqa: F811
    apps: dict[str, App],
    shown: str,
) -> None:
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: `make browser` installs it from npm")
    view = View(browser, apps["iran"], "ar", bypass_csp=True)  # axe is injected as a script
    try:
        box = panel(view, "iran-caucus")
        expect(box.locator("h4")).to_have_text(HEADINGS["ar"])
        assert box.evaluate("node => getComputedStyle(node).direction") == "rtl"
        item = box.locator("li.document", has_text=shown)
        expect(item.locator(".author")).to_have_text("علي باقري كني")
        expect(item.locator(".label")).to_have_text("يُنقل كخلاصة")
        item.locator('button[data-action="view"]').first.click()
        expect(item.locator('.viewer img[data-page="1"]')).to_be_visible()
        send = box.locator("form.send-document")
        send.locator("button[type=submit]").click()  # no file: the page says so, in Arabic
        expect(send.locator("p.error")).to_be_visible()
        view.shoot("documents-ar.png")
        view.page.add_script_tag(path=str(AXE))
        result: dict[str, Any] = view.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']})"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {json.dumps([n['target'] for n in v['nodes']])}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, bad
    finally:
        view.close()


def test_a_long_pdf_shows_a_few_pages_at_a_time(
    browser: Browser,  # noqa: F811
    apps: dict[str, App],
) -> None:
    """Pages are rendered when asked: the first five, then the rest on request; a refresh of
    the room does not close them."""
    tag = secrets.token_hex(3)
    name = f"annex-{tag}.pdf"
    text = "\n".join(f"Line {i} of the annex ({tag})." for i in range(300))
    query = {"talks": "muscat", "room": "iran-caucus", "name": name, "label": "carry-gist"}
    response = upload(apps["iran"], pdf_bytes(text), **query)
    assert response.status_code == 200, response.text
    view = View(browser, apps["iran"])
    try:
        item = panel(view, "iran-caucus").locator("li.document", has_text=name)
        item.get_by_role("button", name="View", exact=True).click()
        pages = item.locator(".viewer img")
        expect(pages).to_have_count(5)
        expect(item.locator(".viewer")).to_contain_text("Pages: 7.")
        # A message arriving in the room re-reads its documents; the open viewer stays open.
        reads = panel(view, "iran-caucus").get_attribute("data-reads") or ""
        said = f"Noted, reading the annex ({tag})."
        with apps["oman"].client() as client:
            body = {"talks": "muscat", "room": "iran-caucus", "text": said, "label": "carry-gist"}
            assert client.post("/api/send", json=body).status_code == 200
        expect(view.message("iran-caucus", said)).to_be_visible()
        expect(panel(view, "iran-caucus")).not_to_have_attribute("data-reads", reads)
        expect(pages).to_have_count(5)
        item.get_by_role("button", name="Show the next pages").click()
        expect(pages).to_have_count(7)
        expect(pages.last).to_have_attribute("alt", f"Page 7 of 7 of {name}")
        expect(item.get_by_role("button", name="Show the next pages")).to_have_count(0)
    finally:
        view.close()


def test_a_neighbour_cannot_upload_a_file(
    browser: Browser,  # noqa: F811
    apps: dict[str, App],
) -> None:
    """Script on another local port posts a file to the upload route as the panel does
    (``application/octet-stream``): in ``no-cors`` mode the browser drops that type and the gate
    refuses the request; in CORS mode it needs a preflight the app refuses, with or without a
    token header; an HTML form's multipart post is refused too. Nothing is sent or kept."""
    app = apps["iran"]
    tag = secrets.token_hex(4)
    name = f"forged-{tag}.txt"
    target = f"{app.base}/api/documents/upload?talks=muscat&room=iran-caucus&label=carry-verbatim"
    form = (
        "<!doctype html><title>prize</title>"
        f'<form method="post" action="{target}&name={name}" enctype="multipart/form-data">'
        '<input type="hidden" name="file" value="We accept every condition.">'
        '<button id="go">Claim your prize</button></form>'
    )
    view = View(browser, app)  # the user has the app open in this browser
    try:
        with neighbour() as evil:
            evil.pages["/"] = form
            view.page.goto(evil.base + "/")
            outcomes = view.page.evaluate(
                """async (url) => {
                    const body = new Blob(["We accept every condition."]);
                    const octet = {"content-type": "application/octet-stream"};
                    const tries = [
                        {mode: "no-cors", credentials: "include", headers: octet},
                        {mode: "cors", credentials: "include", headers: octet},
                        {mode: "cors", headers: {...octet, authorization: "Bearer guess"}},
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
                f"{target}&name={name}",
            )
            with view.page.expect_navigation():
                view.page.click("#go")
            answered = view.page.content()
        # The no-cors request is sent (and refused by the gate); its answer is opaque, or
        # blocked by the app's Cross-Origin-Resource-Policy. The CORS ones are never sent.
        assert outcomes[0] in ("opaque:0", "blocked") and outcomes[1:] == ["blocked"] * 2
        assert "ui.origin_refused" in answered  # the refusal, shown as the form's result
        assert name not in json.dumps(listed(app, "iran-caucus"))
        assert leftovers(app) == []
    finally:
        view.close()
