"""The web app's HTTP surface, driven with plain httpx against real apps over real profiles.

The token gate, the problem documents, the send and relay API (a refused action changes nothing),
the live event stream, the languages, and ``backchannel ui`` itself run as a process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from backchannel.ui import i18n
from tests.ui.conftest import PASSPHRASE, App, Person

pytestmark = pytest.mark.xdist_group("ui")

STATIC = Path(i18n.__file__).parent / "static"


def wait_for(check: Callable[[], Any], timeout: float = 15) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.05)


def messages(app: App, room: str) -> list[dict[str, Any]]:
    """The messages of one room as the app's state shows them."""
    with app.client() as client:
        state = client.get("/api/state").raise_for_status().json()
    (talks,) = state["talks"]
    return next((r["messages"] for r in talks["rooms"] if r["id"] == room), [])


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/state"), ("GET", "/api/events"), ("GET", "/api/text"), ("POST", "/api/send")],
)
def test_every_api_request_without_the_token_is_refused(
    apps: dict[str, App], method: str, path: str
) -> None:
    """No token, the token in the query or in a cookie (it never travels there), a wrong or
    another app's token in the header: 403 ``ui.token_missing`` with a problem document."""
    us = apps["us"]
    wrong = "x" + us.token[1:]
    own = {"origin": us.base, "content-type": "application/json"}
    attempts: list[dict[str, Any]] = [
        {"headers": own},
        {"params": {"token": us.token}, "headers": own},
        {"headers": {**own, "cookie": f"token={us.token}; backchannel-ui={us.token}"}},
        {"headers": {**own, "authorization": f"Bearer {wrong}"}},
        {"headers": {**own, "authorization": f"Bearer {apps['oman'].token}"}},
    ]
    for attempt in attempts:
        response = httpx.request(method, us.base + path, content=b"{}", **attempt)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "ui.token_missing"
        assert problem["status"] == 403
        assert problem["type"] == "urn:backchannel:problem:ui.token_missing"
        assert "token" in problem["detail"]


def test_the_page_holds_no_secret_and_sets_no_credential(apps: dict[str, App]) -> None:
    """The printed address serves the page itself (the script moves the token out of the address
    bar into the tab's sessionStorage); no response sets a cookie holding the token; the page
    and its files need no token and come with the strict headers."""
    us = apps["us"]
    with httpx.Client(base_url=us.base) as browser:
        first = browser.get(f"/?token={us.token}&lang=fa")
        assert first.status_code == 200
        assert '<html lang="fa" dir="rtl">' in first.text
        assert us.token not in first.text
        assert us.token not in first.headers.get("set-cookie", "")
        assert "script-src 'self'" in first.headers["content-security-policy"]
        assert first.headers["cache-control"] == "no-store"
        assert browser.get("/static/app.css").status_code == 200
        assert browser.get("/api/state").status_code == 403
        script = browser.get("/static/app.js").text
        assert "sessionStorage" in script and "replaceState" in script
        assert "new EventSource" not in script and 'credentials: "omit"' in script


def test_a_foreign_host_or_origin_is_refused(apps: dict[str, App]) -> None:
    """With the real token, a Host that is not the app's (a rebinding name, another port, no
    port) is ``ui.host_refused``; an Origin or Sec-Fetch-Site of another site is
    ``ui.origin_refused``; both names of the loopback with the app's port are answered."""
    us = apps["us"]
    port = us.base.rsplit(":", 1)[1]
    token = {"authorization": f"Bearer {us.token}"}
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1", f"localhost:{int(port) + 1}"):
        refused = httpx.get(us.base + "/", headers={"host": host})
        assert refused.status_code == 403 and refused.json()["code"] == "ui.host_refused"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert httpx.get(us.base + "/api/state", headers={**token, "host": host}).status_code == 200
    for headers in (
        {"origin": f"http://127.0.0.1:{int(port) + 1}"},
        {"origin": "null"},
        {"origin": f"http://localhost:{port}"},  # the other name is another origin
        {"sec-fetch-site": "same-site"},
        {"sec-fetch-site": "cross-site"},
    ):
        refused = httpx.get(us.base + "/api/state", headers={**token, **headers})
        assert refused.status_code == 403 and refused.json()["code"] == "ui.origin_refused"


def test_a_change_needs_the_apps_own_origin_json_and_known_fields(apps: dict[str, App]) -> None:
    """A POST without Origin, from another origin, as text/plain or a form encoding, or with a
    field the form does not have is refused before anything is done; the room is unchanged."""
    us = apps["us"]
    before = messages(us, "us-caucus")
    body = {"talks": "muscat", "room": "us-caucus", "text": "forged", "label": "carry-verbatim"}
    token = {"authorization": f"Bearer {us.token}"}
    own = {**token, "origin": us.base}
    cases: list[tuple[dict[str, str], bytes, int, str]] = [
        (token | {"content-type": "application/json"}, json.dumps(body).encode(), 403,
         "ui.origin_refused"),
        (own | {"content-type": "text/plain"}, json.dumps(body).encode(), 415, "input.media_type"),
        (own | {"content-type": "application/x-www-form-urlencoded"}, b"talks=muscat", 415,
         "input.media_type"),
        (own | {"content-type": "multipart/form-data; boundary=x"}, b"--x--", 415,
         "input.media_type"),
        (own | {"content-type": "application/json"}, json.dumps({**body, "pad": "="}).encode(),
         400, "form.invalid"),
    ]  # fmt: skip
    for headers, content, status, code in cases:
        response = httpx.post(us.base + "/api/send", headers=headers, content=content)
        assert response.status_code == status, response.text
        assert response.json()["code"] == code
    assert messages(us, "us-caucus") == before


def test_the_page_speaks_each_language_and_remembers_it(apps: dict[str, App]) -> None:
    """?lang=ar gives an Arabic right-to-left page and a cookie; the cookie alone then keeps it;
    the browser's Accept-Language counts when nothing else says."""
    with apps["us"].client() as client:
        arabic = client.get("/", params={"lang": "ar"})
        assert '<html lang="ar" dir="rtl">' in arabic.text
        assert "القناة الخلفية" in arabic.text
        assert arabic.cookies.get(i18n.COOKIE) == "ar"
        assert '<html lang="ar" dir="rtl">' in client.get("/").text
        client.cookies.clear()
        assert '<html lang="en" dir="ltr">' in client.get("/").text
        persian = client.get("/", headers={"accept-language": "fa-IR,fa;q=0.9,en;q=0.5"})
        assert '<html lang="fa" dir="rtl">' in persian.text


def test_sending_without_a_label_is_refused_and_changes_nothing(apps: dict[str, App]) -> None:
    """No label, an unknown label, no text: each a 400 naming the field; nothing is sent."""
    before = messages(apps["us"], "us-caucus")
    body = {"talks": "muscat", "room": "us-caucus", "text": "hello", "lang": "en"}
    with apps["us"].client() as client:
        for bad, field in (
            (body, "label"),
            ({**body, "label": "whatever"}, "label"),
            ({**body, "label": "carry-gist", "text": " "}, "text"),
        ):
            response = client.post("/api/send", json=bad)
            assert response.status_code == 400
            assert response.json()["code"] == "form.invalid"
            assert response.json()["detail"].startswith(field)
        json_type = {"content-type": "application/json"}
        assert client.post("/api/send", content=b"[1, 2]", headers=json_type).status_code == 400
    assert messages(apps["us"], "us-caucus") == before


def test_a_relay_the_label_forbids_is_a_problem_and_changes_nothing(
    apps: dict[str, App],
) -> None:
    """Iran says something for the mediator only; Oman's app receives it live; relaying it
    either way is refused by Oman's own engine (403, relay.label_forbids) and the US gets
    nothing."""
    words = "API aside: not to be repeated"
    with apps["iran"].client() as iran:
        sent = iran.post(
            "/api/send",
            json={
                "talks": "muscat",
                "room": "iran-caucus",
                "text": words,
                "label": "mediator-only",
            },
        )
    assert sent.status_code == 200, sent.text
    source = sent.json()["message"]
    seen = wait_for(lambda: [m for m in messages(apps["oman"], "iran-caucus") if m["id"] == source])
    assert seen[0]["relay_modes"] == [] and seen[0]["carriable"]
    us_before = messages(apps["us"], "us-caucus")
    oman_before = messages(apps["oman"], "us-caucus")
    with apps["oman"].client() as oman:
        for mode, text in (("gist", "Iran has a concern"), ("verbatim", "")):
            response = oman.post(
                "/api/relay",
                json={
                    "talks": "muscat",
                    "source": source,
                    "room": "us-caucus",
                    "mode": mode,
                    "text": text,
                },
            )
            assert response.status_code == 403
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "relay.label_forbids"
            assert "mediator-only" in response.json()["detail"]
    time.sleep(0.5)
    assert messages(apps["oman"], "us-caucus") == oman_before
    assert messages(apps["us"], "us-caucus") == us_before


def test_the_event_stream_tells_of_new_messages_without_their_text(
    apps: dict[str, App],
) -> None:
    """Oman's stream says 'ready', then 'changed' for the talks when Iran speaks; the notice
    names the talks, never the words."""
    words = "stream check: carried as a gist only"
    with apps["oman"].client() as oman, oman.stream("GET", "/api/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert "event: ready" in [next(lines) for _ in range(3)]
        with apps["iran"].client() as iran:
            iran.post(
                "/api/send",
                json={
                    "talks": "muscat",
                    "room": "iran-caucus",
                    "text": words,
                    "label": "carry-gist",
                },
            ).raise_for_status()
        seen: list[str] = []
        for line in lines:
            seen.append(line)
            if line.startswith("data:") and "muscat" in line:
                break
    assert "event: changed" in seen
    assert json.loads(seen[-1].removeprefix("data: ")) == {"talks": ["muscat"]}
    assert words not in "\n".join(seen)


def test_every_string_of_the_page_is_translated() -> None:
    """Each sentence app.js asks for is in every catalogue; Arabic and Persian translate all of
    them, keeping their {placeholders}."""
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    asked: set[str] = set()
    for page in sorted(STATIC.glob("*.js")):
        asked |= set(re.findall(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', page.read_text(encoding="utf-8")))
    for table in ("LABELS", "LABEL_HINTS", "ROOM_KINDS", "ERRORS"):
        block = re.search(table + r" = \{(.*?)\n  \};", script, re.S)
        assert block is not None, table
        asked |= set(re.findall(r':\s*"((?:[^"\\]|\\.)*)"', block.group(1)))
    asked |= {"Backchannel", "Language", "Pages"}
    assert len(asked) > 40
    for code in ("ar", "fa"):
        strings = i18n.load(code).strings
        assert asked <= set(strings), asked - set(strings)
        for english, translated in strings.items():
            assert set(re.findall(r"\{\w+\}", english)) == set(re.findall(r"\{\w+\}", translated))
    english_ids = _msgids("en")
    assert asked <= english_ids, asked - english_ids


def _msgids(code: str) -> set[str]:
    from babel.messages.pofile import read_po

    with (STATIC.parent / "locale" / f"{code}.po").open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


def test_language_choice() -> None:
    """Query beats cookie beats Accept-Language beats English; unknown ones are ignored."""
    assert i18n.choose("ar", "fa", "en") == "ar"
    assert i18n.choose("xx", "fa", "en") == "fa"
    assert i18n.choose(None, None, "de-DE, fa;q=0.8") == "fa"
    assert i18n.choose(None, None, None) == "en"
    assert i18n.load("fa").direction == "rtl" and i18n.load("en").direction == "ltr"


UI_COMMAND = (sys.executable, "-m", "backchannel", "ui")


def test_the_ui_command_serves_on_loopback_with_a_token(host: str, tmp_path: Path) -> None:
    """`backchannel ui --port 0` prints a 127.0.0.1 address with a token; without the token the
    app answers 403; with it, the page; Ctrl-C stops it and releases the profile."""
    person = Person(tmp_path / "observer")
    person("profile", "create", "--host", host, "--name", "observer", "--kdf", "interactive")
    env = {**os.environ, "BACKCHANNEL_PASSPHRASE": PASSPHRASE}
    process = subprocess.Popen(
        [*UI_COMMAND, "--profile", str(person.directory), "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        printed = ""
        while not printed.rstrip().endswith("}"):
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else ""
            printed += line
        url = json.loads(printed)["url"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}", url)
        base = url.split("/?", 1)[0]
        response = wait_for(lambda: _get(base + "/api/state"))
        assert response.status_code == 403
        with httpx.Client() as browser:
            page = browser.get(url)
            assert page.status_code == 200
            assert 'dir="ltr"' in page.text
            token = url.split("token=", 1)[1]
            headers = {"authorization": f"Bearer {token}"}
            state = browser.get(base + "/api/state", headers=headers).json()
            assert state["profile"]["name"] == "observer" and state["talks"] == []
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert process.returncode in (0, 130), errors  # 130: the usual status after Ctrl-C
    assert "Traceback" not in errors
    assert person("profile", "show")["name"] == "observer"  # saved, and the lock released


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url)
    except httpx.ConnectError:
        return None


def test_a_contact_request_reaches_the_asked_party_and_the_mediator(apps: dict[str, App]) -> None:
    """Iran asks the US through Oman from its page: both see who asked, through whom, and when;
    a request without a party to ask is refused and nothing is recorded."""
    words = f"Iran asks for a meeting ({os.urandom(3).hex()})."
    with apps["iran"].client() as iran:
        refused = iran.post("/api/contact", json={"talks": "muscat", "via": "oman", "text": words})
        assert refused.status_code == 400 and refused.json()["code"] == "form.invalid"
        sent = iran.post(
            "/api/contact", json={"talks": "muscat", "to": "us", "via": "oman", "text": words}
        )
        assert sent.status_code == 200, sent.text

    def seen(app: App) -> list[dict[str, Any]]:
        with app.client() as client:
            (talks,) = client.get("/api/state").raise_for_status().json()["talks"]
        return [c for c in talks["contacts"] if c["text"] == words]

    for name in ("us", "oman", "iran"):
        (request,) = wait_for(lambda name=name: seen(apps[name]))
        assert (request["party"], request["to"], request["via"]) == ("iran", "us", "oman")
        assert request["member"] == "bagheri"
