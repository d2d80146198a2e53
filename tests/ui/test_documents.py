"""The Documents panel's API against three real apps on a real host (the browser test is in
``test_documents_browser.py``).

Every route refuses a call without the token, from another Origin, or (a change) with another
media type; bad input gets a 4xx with a stable code and leaves nothing behind (no document sent,
no file left in the profile's ``uploads/``). Iran's delegation sends a PDF and a text file with
a new version from its app; the version chain is listed newest first, the text version shows its
diff; the mediator's page renders its own stamped copy, downloads it, and the author's app
traces that copy to the mediator's member. A ``mediator-only`` document never reaches the US
app, whatever the mediator's app is asked. A gist is the mediator's own file; the progress job
counts a streamed body as it arrives; without ``pdftoppm`` a page is a 503 with its code; what a
stopped app left in the profile is swept when the next one starts. (The browser tests are in
``test_documents_browser.py``: together they would pass the 600-line limit.)
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from backchannel import documents as pdf_copies
from backchannel.ui import documents as panel
from backchannel.ui import rendering, uploads
from tests.ui.conftest import App

pytestmark = pytest.mark.xdist_group("ui")

OCTET = {"content-type": "application/octet-stream"}
#: Each route, how it is called, and a request that would pass the gate.
ROUTES: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/api/documents", {"talks": "muscat", "room": "iran-caucus"}),
    ("POST", "/api/documents/upload", {"talks": "muscat", "room": "iran-caucus", "name": "a.txt"}),
    ("GET", "/api/documents/progress", {"job": "abcdefgh"}),
    ("POST", "/api/documents/relay", {}),
    ("GET", "/api/documents/download", {"talks": "muscat", "document": "x"}),
    ("GET", "/api/documents/view", {"talks": "muscat", "document": "x"}),
    ("GET", "/api/documents/page", {"talks": "muscat", "document": "x", "page": "1"}),
    ("POST", "/api/documents/trace", {"talks": "muscat", "document": "x"}),
]
POSTS = [r for r in ROUTES if r[0] == "POST"]


def pdf_bytes(text: str) -> bytes:
    """An ordinary PDF as a delegation would send it (rendered unmarked, for no one)."""
    return pdf_copies.render_text(text, bytes(32), "", title="Non-paper")


def visible_text(pdf: bytes) -> str:
    """A PDF's text as a reader sees it: marked spaces as spaces, no word joiners."""
    return pdf_copies.extracted_text(pdf).replace("\u2060", "").replace("\u00a0", " ")


def upload(app: App, data: bytes, **query: str) -> httpx.Response:
    """The page's upload: the file as the body, its parameters in the query."""
    with app.client() as client:
        return client.post("/api/documents/upload", params=query, content=data, headers=OCTET)


def listed(app: App, room: str) -> dict[str, Any]:
    with app.client() as client:
        response = client.get("/api/documents", params={"talks": "muscat", "room": room})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def ids(app: App, room: str) -> set[str]:
    return {v["id"] for d in listed(app, room)["documents"] for v in d["versions"]}


def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait for another app's background sync (every 2 s at most) to bring something in."""
    deadline = time.monotonic() + 30
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.2)


def leftovers(app: App) -> list[str]:
    """Files the app left in the profile's upload directory (there should be none)."""
    where = app.profile.path / "uploads"
    return sorted(p.name for p in where.iterdir()) if where.exists() else []


@dataclass
class Sent:
    """What this module's fixture sent from Iran's app, by role."""

    pdf: str
    pdf_name: str
    text_v1: str
    text_v2: str
    secret: str
    secret_name: str
    secret_bytes: bytes


@pytest.fixture(scope="module")
def sent(apps: dict[str, App]) -> Sent:
    """Iran sends, into its caucus: a PDF (carry-verbatim), a text file and a new version of
    it (carry-gist), and a mediator-only file; the mediator's app has them all."""
    tag = secrets.token_hex(3)
    iran = apps["iran"]

    def send(name: str, data: bytes, **extra: str) -> str:
        response = upload(iran, data, talks="muscat", room="iran-caucus", name=name, **extra)
        assert response.status_code == 200, response.text
        document: str = response.json()["document"]
        return document

    pdf_name = f"non-paper-{tag}.pdf"
    words = f"Principles for a reduction of attacks in the region ({tag})."
    pdf = send(pdf_name, pdf_bytes(words), label="carry-verbatim")
    v1 = send(f"points-{tag}.txt", b"one\ntwo\nthree\n", label="carry-gist")
    v2 = send(f"points-{tag}.txt", b"one\n2\nthree\nfour\n", label="carry-gist", supersedes=v1)
    secret_name = f"red-line-{tag}.txt"
    secret_bytes = f"Our real red line, for Oman alone ({tag}).\n".encode()
    secret = send(secret_name, secret_bytes, label="mediator-only")
    eventually(lambda: {pdf, v1, v2, secret} <= ids(apps["oman"], "iran-caucus"), "oman has all")
    return Sent(pdf, pdf_name, v1, v2, secret, secret_name, secret_bytes)


# --- the gate ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "query"), ROUTES)
def test_every_route_needs_the_token(
    apps: dict[str, App], method: str, path: str, query: dict[str, str]
) -> None:
    """Without the bearer token, every route is refused before it runs."""
    app = apps["iran"]
    media = "application/json" if path.endswith("relay") else OCTET["content-type"]
    headers = {"origin": app.base, "content-type": media}
    response = httpx.request(method, app.base + path, params=query, headers=headers, content=b"x")
    assert response.status_code == 403
    assert response.json()["code"] == "ui.token_missing"


@pytest.mark.parametrize(("method", "path", "query"), ROUTES)
def test_every_route_refuses_another_origin(
    apps: dict[str, App], method: str, path: str, query: dict[str, str]
) -> None:
    """A page of another origin (another port of 127.0.0.1) is refused, token or not."""
    app = apps["iran"]
    with app.client() as client:
        headers = {"origin": "http://127.0.0.1:1", **OCTET}
        response = client.request(method, path, params=query, headers=headers, content=b"x")
    assert response.status_code == 403
    assert response.json()["code"] == "ui.origin_refused"


@pytest.mark.parametrize(("method", "path", "query"), POSTS)
@pytest.mark.parametrize("media", ["text/plain", "multipart/form-data; boundary=x", ""])
def test_every_change_refuses_a_form_media_type(
    apps: dict[str, App], method: str, path: str, query: dict[str, str], media: str
) -> None:
    """What an HTML form or a no-cors fetch can send (or no type at all) is refused: 415."""
    app = apps["iran"]
    with app.client() as client:
        headers = {"content-type": media} if media else {}
        response = client.request(method, path, params=query, headers=headers, content=b"x")
    assert response.status_code == 415
    assert response.json()["code"] == "input.media_type"


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/api/documents/relay", "application/octet-stream"),  # a JSON route takes no file
        ("/api/send", "application/octet-stream"),  # nor does any other page's
        ("/api/documents/upload", "application/json"),  # a file route takes no JSON
        ("/api/documents/trace", "application/json"),
    ],
)
def test_a_file_body_only_where_a_file_is_read(apps: dict[str, App], path: str, media: str) -> None:
    """``application/octet-stream`` passes the gate only on the two file routes, and those
    read nothing else."""
    app = apps["iran"]
    query = {"talks": "muscat", "room": "iran-caucus", "name": "a.txt", "label": "carry-gist"}
    with app.client() as client:
        params = query if path.endswith("upload") else {}
        response = client.post(path, params=params, content=b"{}", headers={"content-type": media})
    assert response.status_code == 415
    assert response.json()["code"] == "input.media_type"
    assert leftovers(app) == []


# --- what the panel does -------------------------------------------------------------------------


def test_the_room_lists_each_version_chain_newest_first(apps: dict[str, App], sent: Sent) -> None:
    """A new version is listed under its latest, newest first; no key ever leaves the app;
    the carry labels say which the room allows."""
    data = listed(apps["oman"], "iran-caucus")
    chain = next(d for d in data["documents"] if d["id"] == sent.text_v2)
    assert [v["id"] for v in chain["versions"]] == [sent.text_v2, sent.text_v1]
    assert chain["versions"][0]["supersedes"] == sent.text_v1
    assert chain["author"] == "bagheri" and chain["text"] and not chain["pdf"]
    assert chain["relay_modes"] == ["gist"]  # carry-gist: the mediator may carry a gist only
    assert not any(d["id"] == sent.text_v1 for d in data["documents"])  # not a chain of its own
    pdf = next(d for d in data["documents"] if d["id"] == sent.pdf)
    assert pdf["pdf"] and pdf["relay_modes"] == ["gist", "verbatim"]
    secret = next(d for d in data["documents"] if d["id"] == sent.secret)
    assert secret["relay_modes"] == []
    assert data["labels"] == {"carry-gist": None, "carry-verbatim": None, "mediator-only": None}
    mine = listed(apps["iran"], "iran-caucus")
    assert next(d for d in mine["documents"] if d["id"] == sent.pdf)["relay_modes"] == []
    for field in ("key", "header", "blob"):
        assert all(field not in v for d in data["documents"] for v in d["versions"])
    # In the room's messages a document is its name and size: the panel fetches it.
    with apps["oman"].client() as client:
        state = client.get("/api/state").json()
    room = next(r for r in state["talks"][0]["rooms"] if r["id"] == "iran-caucus")
    said = next(m["text"] for m in room["messages"] if m["id"] == sent.pdf)
    assert said == f"[document] {sent.pdf_name} ({pdf['size']} bytes)"


def test_a_text_version_shows_with_its_diff(apps: dict[str, App], sent: Sent) -> None:
    """The newer text version comes with a unified diff against the one it supersedes."""
    with apps["oman"].client() as client:
        response = client.get(
            "/api/documents/view", params={"talks": "muscat", "document": sent.text_v2}
        )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["kind"] == "text" and shown["text"] == "one\n2\nthree\nfour\n"
    assert shown["previous"] == sent.text_v1
    assert "-two\n+2\n" in shown["diff"] and "+four\n" in shown["diff"]


def test_a_pdf_shows_as_pages_of_my_stamped_copy_which_a_leak_names(
    apps: dict[str, App], sent: Sent
) -> None:
    """The mediator's app renders its own stamped copy to PNG pages; its download is that
    copy (marked for its member), and the author's app traces it to the mediator's member."""
    oman, iran = apps["oman"], apps["iran"]
    query = {"talks": "muscat", "document": sent.pdf}
    with oman.client() as client:
        shown = client.get("/api/documents/view", params=query).json()
        assert shown == {"document": sent.pdf, "kind": "pdf", "pages": 1}
        page = client.get("/api/documents/page", params={**query, "page": "1"})
        assert page.status_code == 200 and page.headers["content-type"] == "image/png"
        assert page.content.startswith(b"\x89PNG\r\n\x1a\n") and len(page.content) > 1000
        got = client.get("/api/documents/download", params=query)
    with iran.client() as client:
        client.get("/api/documents/view", params=query)
        authors = client.get("/api/documents/page", params={**query, "page": "1"}).content
    # Each member sees their own stamped copy (the visible line names them), never one file.
    assert authors.startswith(b"\x89PNG") and authors != page.content
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith("attachment;")
    assert sent.pdf_name in got.headers["content-disposition"]
    copy = got.content
    assert copy.startswith(b"%PDF-")
    assert "Omani official" in visible_text(copy)  # its visible line
    with iran.client() as client:
        traced = client.post("/api/documents/trace", params=query, content=copy, headers=OCTET)
    assert traced.status_code == 200, traced.text
    found = traced.json()
    assert found["verdict"] == "identified" and found["recipient"] == "envoy"
    assert found["metadata_holder"] == "envoy" and 0 <= found["chance"] < 1e-3
    excerpt = pdf_copies.hidden_text(copy).encode("utf-8")
    with iran.client() as client:
        by_excerpt = client.post(
            "/api/documents/trace", params=query, content=excerpt, headers=OCTET
        ).json()
    assert by_excerpt["recipient"] == "envoy"


def test_a_mediator_only_document_never_reaches_another_party(
    apps: dict[str, App], sent: Sent
) -> None:
    """The mediator cannot carry it (the engine refuses, whatever its page sends), and the US
    app answers nothing that holds its name or bytes: not its state, not a guess at its id."""
    with apps["oman"].client() as client:
        refused = client.post(
            "/api/documents/relay",
            json={"talks": "muscat", "source": sent.secret, "room": "us-caucus"},
        )
    assert refused.status_code == 403 and refused.json()["code"] == "relay.label_forbids"
    us = apps["us"]
    seen = []
    with us.client() as client:
        seen.append(client.get("/api/state"))
        seen.append(client.get("/api/documents", params={"talks": "muscat", "room": "us-caucus"}))
        for route in ("download", "view"):
            answer = client.get(
                f"/api/documents/{route}", params={"talks": "muscat", "document": sent.secret}
            )
            assert answer.status_code == 404 and answer.json()["code"] == "document.unknown"
            seen.append(answer)
    for answer in seen:
        assert sent.secret_name.encode() not in answer.content
        assert sent.secret_bytes not in answer.content


def test_a_word_for_word_carry_reaches_the_other_caucus(apps: dict[str, App], sent: Sent) -> None:
    """The mediator carries the carry-verbatim PDF into the US caucus; the US app lists it,
    carried, with the author's descriptor (and so the same file)."""
    with apps["oman"].client() as client:
        carried = client.post(
            "/api/documents/relay",
            json={"talks": "muscat", "source": sent.pdf, "room": "us-caucus"},
        )
    assert carried.status_code == 200, carried.text
    document = carried.json()["document"]
    eventually(lambda: document in ids(apps["us"], "us-caucus"), "the US app has the carry")
    there = next(d for d in listed(apps["us"], "us-caucus")["documents"] if d["id"] == document)
    assert there["relay"] == "verbatim" and there["relayed_by"] == "envoy"
    assert there["name"] == sent.pdf_name and there["author"] == "bagheri"


def test_a_gist_is_the_mediators_own_file(apps: dict[str, App], sent: Sent) -> None:
    """The mediator's own file, uploaded as a gist of the carry-gist text, reaches the US
    caucus as the mediator's document: its name and bytes, never the source's."""
    tag = secrets.token_hex(3)
    name = f"summary-{tag}.txt"
    query = {"talks": "muscat", "room": "us-caucus", "name": name, "source": sent.text_v2}
    response = upload(apps["oman"], f"Tehran lists four points ({tag}).\n".encode(), **query)
    assert response.status_code == 200, response.text
    assert response.json()["mode"] == "gist"
    document = response.json()["document"]
    eventually(lambda: document in ids(apps["us"], "us-caucus"), "the US app has the gist")
    there = next(d for d in listed(apps["us"], "us-caucus")["documents"] if d["id"] == document)
    assert there["name"] == name and there["relay"] == "gist"
    with apps["us"].client() as client:
        shown = client.get("/api/documents/view", params={"talks": "muscat", "document": document})
    assert shown.json()["text"] == f"Tehran lists four points ({tag}).\n"
    assert "points-" not in shown.text  # the source's name stays in Iran's caucus


def test_the_progress_counts_the_bytes_as_they_arrive(apps: dict[str, App], sent: Sent) -> None:
    """While a file streams in, its job says how much arrived; once the upload answered, the
    job is gone (it is only a counter for the page's bar)."""
    app = apps["iran"]
    job = secrets.token_hex(8)
    seen: list[dict[str, Any]] = []

    def pieces() -> Any:
        yield b"a" * 5000
        time.sleep(0.5)  # the app has read the first piece by now
        with app.client() as client:
            seen.append(client.get("/api/documents/progress", params={"job": job}).json())
        yield b"b" * 5000

    query = {**BASE, "name": f"slow-{job}.txt", "label": "carry-gist", "job": job}
    with app.client() as client:
        response = client.post(
            "/api/documents/upload", params=query, content=pieces(), headers=OCTET
        )
    assert response.status_code == 200, response.text
    assert seen[0]["job"] == job and seen[0]["phase"] == "receiving"
    assert 0 < seen[0]["received"] <= 5000 and seen[0]["moved"] == 0
    assert seen[0]["size"] is None  # streamed without a length: the bar counts what came
    with app.client() as client:
        after = client.get("/api/documents/progress", params={"job": job})
    assert after.status_code == 400 and after.json()["code"] == "form.invalid"


def test_without_a_renderer_the_page_says_so(
    apps: dict[str, App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device without poppler-utils answers 503 ``ui.renderer_unavailable`` for a page (the
    page offers the download instead); nothing else about the document changes."""
    monkeypatch.setattr(rendering, "PDFTOPPM", "/nonexistent/pdftoppm")
    monkeypatch.setattr("shutil.which", lambda name: None)
    query = {"talks": "muscat", "room": "iran-caucus", "name": "plain.pdf", "label": "carry-gist"}
    sent = upload(apps["iran"], pdf_bytes(f"Unrendered ({secrets.token_hex(3)})."), **query)
    assert sent.status_code == 200, sent.text
    document = {"talks": "muscat", "document": sent.json()["document"]}
    with apps["iran"].client() as client:
        assert client.get("/api/documents/view", params=document).json()["pages"] == 1
        page = client.get("/api/documents/page", params={**document, "page": "1"})
        assert page.status_code == 503 and page.json()["code"] == "ui.renderer_unavailable"
        assert client.get("/api/documents/download", params=document).status_code == 200


def test_what_a_stopped_app_left_is_swept(tmp_path: Path) -> None:
    """A received file, a fetched copy and a render left by an app that stopped mid-request are
    removed when the next app starts; the profile's own files are not touched."""
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / ".bc-upload-x1.part").write_bytes(b"plaintext")
    (tmp_path / ".bc-copy-y2").mkdir()
    (tmp_path / ".bc-copy-y2" / "copy").write_bytes(b"plaintext")
    (tmp_path / ".bc-render-z3").mkdir()
    kept = ["state.sealed", "outbox", ".bc-abc.part"]
    (tmp_path / "state.sealed").write_bytes(b"sealed")
    (tmp_path / "outbox").mkdir()
    (tmp_path / ".bc-abc.part").write_bytes(b"a download being resumed")
    removed = uploads.sweep(tmp_path)
    assert sorted(removed) == [".bc-copy-y2", ".bc-render-z3", ".bc-upload-x1.part"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "uploads"])
    assert list((tmp_path / "uploads").iterdir()) == []


# --- bad input -----------------------------------------------------------------------------------


def _bad_upload(app: App, data: bytes, code: str, status: int, **query: str) -> None:
    """An upload refused with ``code``, after which nothing was sent and nothing is left."""
    before = ids(app, "iran-caucus")
    response = upload(app, data, **query)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert leftovers(app) == []
    assert ids(app, "iran-caucus") == before


BASE = {"talks": "muscat", "room": "iran-caucus", "name": "n.txt"}


@pytest.mark.parametrize(
    ("query", "code", "status"),
    [
        (BASE, "form.invalid", 400),  # no carry label: none is chosen for you
        ({**BASE, "label": "loud"}, "form.invalid", 400),
        ({**BASE, "label": "carry-gist", "name": "../etc/passwd"}, "form.invalid", 400),
        ({**BASE, "label": "carry-gist", "colour": "red"}, "form.invalid", 400),
        ({**BASE, "label": "carry-gist", "job": "x"}, "form.invalid", 400),
        # Iran's device does not even know the US caucus is there.
        ({**BASE, "label": "carry-gist", "room": "us-caucus"}, "entity.unknown", 404),
        ({**BASE, "label": "carry-gist", "supersedes": "nothing"}, "document.unknown", 404),
        ({**BASE, "label": "carry-gist", "talks": "nowhere"}, "talks.unknown", 404),
        ({**BASE, "source": "nothing"}, "document.unknown", 404),
    ],
)
def test_a_bad_upload_is_refused_and_keeps_nothing(
    apps: dict[str, App], sent: Sent, query: dict[str, str], code: str, status: int
) -> None:
    """A bad parameter, or a send the engine refuses, stores nothing and sends nothing."""
    _bad_upload(apps["iran"], b"some words\n", code, status, **query)


def test_a_new_version_of_another_members_document_is_refused(
    apps: dict[str, App], sent: Sent
) -> None:
    """Only its author sends a new version of a document."""
    query = {**BASE, "label": "carry-gist", "supersedes": sent.text_v2}
    _bad_upload(apps["oman"], b"my version\n", "document.invalid", 400, **query)


def test_an_empty_file_is_refused(apps: dict[str, App], sent: Sent) -> None:
    _bad_upload(apps["iran"], b"", "document.invalid", 400, **BASE, label="carry-gist")


def test_a_file_over_the_limit_is_refused_whole(
    apps: dict[str, App], sent: Sent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the document limit — declared, or streamed without a length — 413
    ``document.too_large``; none of it stays on disk and nothing is sent."""
    monkeypatch.setattr(panel, "MAX_UPLOAD", 1000)
    query = {**BASE, "label": "carry-gist"}
    _bad_upload(apps["iran"], b"x" * 3000, "document.too_large", 413, **query)
    app = apps["iran"]
    before = ids(app, "iran-caucus")

    def pieces() -> Any:
        for _ in range(4):
            yield b"y" * 400

    with app.client() as client:
        response = client.post(
            "/api/documents/upload", params=query, content=pieces(), headers=OCTET
        )
    assert response.status_code == 413 and response.json()["code"] == "document.too_large"
    assert leftovers(app) == [] and ids(app, "iran-caucus") == before


@pytest.mark.parametrize(
    ("route", "query", "code", "status"),
    [
        ("", {"talks": "muscat"}, "form.invalid", 400),
        ("", {"talks": "muscat", "room": "nowhere"}, "entity.unknown", 404),
        ("", {"talks": "muscat", "room": "us-caucus"}, "entity.unknown", 404),  # not known
        ("/progress", {"job": "no-such-job"}, "form.invalid", 400),
        ("/download", {"talks": "muscat", "document": "nothing"}, "document.unknown", 404),
        ("/download", {"talks": "muscat"}, "form.invalid", 400),
        ("/view", {"talks": "muscat", "document": "nothing"}, "document.unknown", 404),
        ("/page", {"talks": "muscat", "document": "nothing", "page": "1"}, "document.unknown", 404),
    ],
)
def test_bad_reads_are_refused(
    apps: dict[str, App], route: str, query: dict[str, str], code: str, status: int
) -> None:
    with apps["iran"].client() as client:
        response = client.get(f"/api/documents{route}", params=query)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


@pytest.mark.parametrize("page", ["0", "2", "one", "-1"])
def test_a_page_that_is_not_there_is_refused(apps: dict[str, App], sent: Sent, page: str) -> None:
    with apps["iran"].client() as client:
        response = client.get(
            "/api/documents/page", params={"talks": "muscat", "document": sent.pdf, "page": page}
        )
    assert response.status_code == 400 and response.json()["code"] == "form.invalid"


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"talks": "muscat", "source": "nothing", "room": "us-caucus"}, "document.unknown", 404),
        ({"talks": "muscat", "room": "us-caucus"}, "form.invalid", 400),
        ({"talks": "muscat", "source": "x", "room": "r", "mode": "gist"}, "form.invalid", 400),
    ],
)
def test_bad_relays_are_refused(
    apps: dict[str, App], body: dict[str, str], code: str, status: int
) -> None:
    with apps["oman"].client() as client:
        response = client.post("/api/documents/relay", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_a_party_cannot_carry_a_document(apps: dict[str, App], sent: Sent) -> None:
    """Carrying is the mediator's: Iran's own app is refused by its engine."""
    with apps["iran"].client() as client:
        response = client.post(
            "/api/documents/relay",
            json={"talks": "muscat", "source": sent.pdf, "room": "us-caucus"},
        )
    assert response.status_code == 403 and response.json()["code"] == "relay.not_mediator"


@pytest.mark.parametrize(
    ("document", "body", "code", "status"),
    [
        ("nothing", b"%PDF-1.4 leaked", "document.unknown", 404),
        (None, b"   \n", "form.invalid", 400),
        (None, b"%PDF-1.7 truncated", "document.malformed", 400),
    ],
)
def test_bad_traces_are_refused(
    apps: dict[str, App], sent: Sent, document: str | None, body: bytes, code: str, status: int
) -> None:
    query = {"talks": "muscat", "document": document or sent.pdf}
    with apps["iran"].client() as client:
        response = client.post("/api/documents/trace", params=query, content=body, headers=OCTET)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
