"""The Text page's API over real apps: the negotiating text as every ``--json`` output prints it,
the mediator drafting, the parties consenting, and every refusal being the device engine's own;
members' marked copies issued as downloads and traced back from a leak.

The shared Muscat talks (members hold ``propose``) show the pen and its refusals; talks of this
module's own show what a member holding ``accept`` may do (``oslo``) and what a revoked device
may not (``bern``), without touching anyone else's talks.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine.watermark import MARK
from backchannel.replay import text_json
from backchannel.ui import create_app, new_token, serving
from tests.ui.conftest import PASSPHRASE, App, Person
from tests.ui.test_api import wait_for

pytestmark = pytest.mark.xdist_group("ui")

RED_SEA = (
    "Attacks on commercial shipping in the Red Sea cease [from the date of this understanding "
    "| once a ceasefire in Gaza takes effect], and [the parties consult through Oman on any "
    "incident]."
)
CONSENTS = ("agree", "initial", "sign")
#: An article long enough that an excerpt of any copy has spaces enough to name its member.
LONG = (
    "Any agreement ends the war as a permanent peace and not as a temporary truce. Each party "
    "refrains from attacks on the territory, forces, shipping and energy sites of the other, "
    "directly or through groups it backs, and reports within seven days any incident it learns "
    "of through this channel. The envoys meet again within thirty days to review how both "
    "parties kept these commitments, and to settle the guarantees that make them permanent."
)
#: A member of each talks the tests issue copies to.
RECIPIENT = {"muscat": "bagheri", "bern": "envoy"}


def text(app: App, talks: str = "muscat") -> dict[str, Any]:
    """One talks as the app's Text page gets it."""
    with app.client() as client:
        data = client.get("/api/text", params={"talks": talks}).raise_for_status().json()
    (found,) = data["talks"]
    assert found["alias"] == talks
    return dict(found)


def article(app: App, article_id: str, talks: str = "muscat") -> dict[str, Any] | None:
    """One article as the app shows it, if its device has it."""
    return next((a for a in text(app, talks)["articles"] if a["id"] == article_id), None)


def draft(app: App, talks: str, article_id: str, words: str, title: str = "") -> httpx.Response:
    with app.client() as client:
        return client.post(
            "/api/text/draft",
            json={"talks": talks, "article": article_id, "text": words, "title": title},
        )


def act(app: App, name: str, body: dict[str, Any]) -> httpx.Response:
    with app.client() as client:
        return client.post(f"/api/text/{name}", json=body)


def convene(
    host: str,
    root: Path,
    alias: str,
    member: str,
    level: str,
    setup: Callable[[Profile, Profile], None] | None = None,
) -> Iterator[dict[str, App]]:
    """Talks of their own: Oman mediates, the US joins with ``member`` holding ``level``; then
    ``setup`` acts on the open profiles (Oman's, the US's) before their apps start."""
    oman, us = Person(root / "oman"), Person(root / "us")
    for name, person in (("oman", oman), ("us", us)):
        person("profile", "create", "--host", host, "--name", name, "--kdf", "interactive")
    oman("talks", "create", alias, "--party", "oman", "--member", "envoy", "--mediator")
    code = oman("talks", "invite", alias, "--party", "us")["invite"]
    us("talks", "join", code, "--member", member, "--level", level)
    for person in (oman, us, oman):
        person("talks", "list")  # introductions and declarations travel
    with ExitStack() as stack:
        profiles = {
            name: stack.enter_context(Profile.open(person.directory, PASSPHRASE))
            for name, person in (("oman", oman), ("us", us))
        }
        for profile in profiles.values():
            profile.sync()
        if setup is not None:
            setup(profiles["oman"], profiles["us"])
        running: dict[str, App] = {}
        for name, profile in profiles.items():
            token = new_token()
            base = stack.enter_context(serving(create_app(profile, token, poll_seconds=2)))
            running[name] = App(base, token, profile)
        yield running


@pytest.fixture(scope="module")
def oslo(host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, App]]:
    """Oman mediates; the US's Sullivan holds 'accept' (he may agree and initial, not sign)."""
    yield from convene(host, tmp_path_factory.mktemp("ui-oslo"), "oslo", "sullivan", "accept")


@pytest.fixture(scope="module")
def bern(host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, App]]:
    """Oman drafts an article; then the US's Burns revokes the one device he acts through."""

    def setup(oman: Profile, us: Profile) -> None:
        oman.act(oman.participant("bern"), ev.DraftArticle, article="art-1", text="They meet.")
        us.sync()
        participant = us.participant("bern")
        assert "art-1" in participant.view.articles
        us.act(participant, ev.RevokeDevice, target=participant.engine_device)

    yield from convene(host, tmp_path_factory.mktemp("ui-bern"), "bern", "burns", "accept", setup)


@pytest.fixture(scope="module")
def ports(apps: dict[str, App]) -> dict[str, Any]:
    """An article of the Muscat text, drafted by the mediator, seen by both parties."""
    article_id = f"art-ports-{secrets.token_hex(3)}"
    words = "Ports stay open [to all shipping | to civilian shipping]."
    assert draft(apps["oman"], "muscat", article_id, words, "Ports").status_code == 200
    for name in ("us", "iran"):
        wait_for(lambda name=name: article(apps[name], article_id))
    found = article(apps["oman"], article_id)
    assert found is not None
    return found


# --- who may do what ---------------------------------------------------------------------------

ROUTES = [
    "GET /api/text",
    "POST /api/text/draft",
    *(f"POST /api/text/{c}" for c in CONSENTS),
    "POST /api/text/issue",
    "POST /api/text/trace",
]


def _request(
    app: App, route: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    method, path = route.split()
    if headers is None:
        headers = {"authorization": f"Bearer {app.token}"}
    if method == "GET":
        return httpx.get(app.base + path, params={"talks": body["talks"]}, headers=headers)
    return httpx.post(app.base + path, json=body, headers={"origin": app.base, **headers})


def _body(route: str, talks: str, found: dict[str, Any]) -> dict[str, Any]:
    if route.endswith("/draft"):
        return {"talks": talks, "article": f"art-{secrets.token_hex(3)}", "text": "Words [a | b]."}
    if route.endswith("/issue"):
        return {"talks": talks, "recipient": RECIPIENT[talks]}
    if route.endswith("/trace"):
        return {"talks": talks, "leaked": "Any words at all, retyped by hand."}
    return {"talks": talks, "article": found["id"], "version": found["version"]}


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.mark.parametrize("route", ROUTES)
def test_who_may_use_each_text_route(
    apps: dict[str, App], bern: dict[str, App], ports: dict[str, Any], route: str
) -> None:
    """Each route, for each role. The mediator reads, drafts, and may not consent
    (text.not_a_party). Its own party's member reads and, holding 'propose', may neither draft
    (text.not_pen_holder) nor consent (mandate.insufficient). Another party's token, or none,
    is refused by the app before anything is read (ui.token_missing), and a device answers only
    for talks it is in (talks.unknown). A revoked device still reads what it holds but its
    engine refuses every act (device.revoked). Issuing a copy and tracing a leak act on
    nothing and send nothing: like reading, every device in the talks may (a revoked one too, as
    from the CLI). A refused act changes nothing anywhere."""
    oman, us, iran = apps["oman"], apps["us"], apps["iran"]
    reading = route.startswith("GET") or route.endswith(("/issue", "/trace"))
    drafting = route.endswith("/draft")
    before = {name: text(app) for name, app in apps.items()}

    # The mediator
    response = _request(oman, route, _body(route, "muscat", ports))
    if reading or drafting:
        assert response.status_code == 200, response.text
    else:
        _problem(response, 403, "text.not_a_party")

    # Its own party (the US device acting for the US)
    response = _request(us, route, _body(route, "muscat", ports))
    if reading:
        assert response.status_code == 200, response.text
        if route.startswith("GET"):
            assert response.json()["talks"][0]["party"] == "us"
    elif drafting:
        _problem(response, 403, "text.not_pen_holder")
    else:
        _problem(response, 403, "mandate.insufficient")

    # Another party: Iran's token on the US app
    other = {"authorization": f"Bearer {iran.token}"}
    _problem(_request(us, route, _body(route, "muscat", ports), other), 403, "ui.token_missing")

    # An outsider: no token at all; and talks this device is not in
    _problem(_request(us, route, _body(route, "muscat", ports), {}), 403, "ui.token_missing")
    _problem(_request(us, route, _body(route, "bern", ports)), 404, "talks.unknown")

    # A revoked device
    revoked = bern["us"]
    response = _request(revoked, route, _body(route, "bern", {"id": "art-1", "version": 1}))
    if route.endswith(("/issue", "/trace")):
        assert response.status_code == 200, response.text
    elif reading:
        (seen,) = response.json()["talks"]
        assert seen["pen"] is False and seen["pen_refused"]["code"] == "device.revoked"
        (first,) = seen["articles"]
        assert {first["may"][c]["code"] for c in CONSENTS} == {"device.revoked"}
    else:
        _problem(response, 403, "device.revoked")

    if not (drafting or reading):
        for name, app in apps.items():
            assert text(app) == before[name]


# --- drafting ----------------------------------------------------------------------------------


def test_the_mediator_drafts_and_every_party_reads_the_same_text(apps: dict[str, App]) -> None:
    """The mediator drafts an article with two brackets: every device shows it in the shape of
    ``replay.text_json`` (bracketed, its alternatives, no party's stage yet), with the
    viewer's own flags beside it; a new version keeps the earlier one in the history."""
    article_id = f"art-shipping-{secrets.token_hex(3)}"
    response = draft(apps["oman"], "muscat", article_id, RED_SEA, "Red Sea shipping")
    assert response.status_code == 200, response.text
    assert response.json() == {"talks": "muscat", "article": article_id, "version": 1}
    mine = text(apps["oman"])
    assert mine["pen"] is True and mine["pen_refused"] is None and mine["mediator"] == "oman"
    shown = next(a for a in mine["articles"] if a["id"] == article_id)
    assert shown["status"] == "bracketed" and shown["brackets"] == 2 and shown["version"] == 1
    assert shown["title"] == "Red Sea shipping" and shown["text"] == RED_SEA
    assert shown["segments"][1] == {
        "alternatives": [
            "from the date of this understanding",
            "once a ceasefire in Gaza takes effect",
        ]
    }
    assert shown["parties"] == {"iran": None, "us": None}
    expected = text_json(apps["oman"].profile.participant("muscat").view)  # a frozen value
    same = next(a for a in expected if a["id"] == article_id)
    assert {k: v for k, v in shown.items() if k != "may"} == same
    for name in ("us", "iran"):
        seen = wait_for(lambda name=name: article(apps[name], article_id))
        assert {k: v for k, v in seen.items() if k != "may"} == same

    revised = RED_SEA.replace(
        "[from the date of this understanding | once a ceasefire in Gaza takes effect]",
        "from the date of this understanding",
    )
    assert draft(apps["oman"], "muscat", article_id, revised).json()["version"] == 2
    latest = wait_for(
        lambda: (found := article(apps["us"], article_id)) and found["version"] == 2 and found
    )
    assert latest["brackets"] == 1 and latest["title"] == "Red Sea shipping"
    assert [v["text"] for v in latest["versions"]] == [RED_SEA, revised]
    again = draft(apps["oman"], "muscat", article_id, revised)
    _problem(again, 409, "text.duplicate")


def test_a_partys_draft_is_refused_and_changes_nothing(
    apps: dict[str, App], ports: dict[str, Any]
) -> None:
    """In mediated talks only the mediator holds the pen: a party's new article or new version
    is refused by its own device (text.not_pen_holder), which shows why it has no editor."""
    before = {name: text(app) for name, app in apps.items()}
    assert before["iran"]["pen"] is False
    assert before["iran"]["pen_refused"]["code"] == "text.not_pen_holder"
    for article_id in (f"art-iran-{secrets.token_hex(3)}", ports["id"]):
        response = draft(apps["iran"], "muscat", article_id, "Attacks cease once Gaza is calm.")
        _problem(response, 403, "text.not_pen_holder")
    for name, app in apps.items():
        assert text(app) == before[name]


def test_malformed_brackets_are_the_engines_refusal(apps: dict[str, App]) -> None:
    """A nested or unclosed bracket is refused (text.malformed), naming where."""
    for words in ("Ports [open [to all]].", "Ports [open."):
        response = draft(apps["oman"], "muscat", f"art-{secrets.token_hex(3)}", words)
        _problem(response, 400, "text.malformed")
        assert "character" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("agree", {"talks": "muscat", "article": "art-x"}, "version"),
        ("initial", {"talks": "muscat", "article": "art-x", "version": "1"}, "version"),
        ("sign", {"talks": "muscat", "article": "art-x", "version": 0}, "version"),
        ("agree", {"talks": "muscat", "article": "art-x", "version": True}, "version"),
        ("agree", {"talks": "muscat", "version": 1}, "article"),
        ("sign", {"article": "art-x", "version": 1}, "talks"),
        ("draft", {"talks": "muscat", "article": "art-x"}, "text"),
        ("draft", {"talks": "muscat", "text": "Words."}, "article"),
        ("draft", {"talks": "muscat", "article": "art-x", "text": ["Words."]}, "text"),
        ("draft", [], "body"),
        ("issue", {"talks": "muscat"}, "recipient"),
        ("issue", {"recipient": "bagheri"}, "talks"),
        ("issue", {"talks": "muscat", "recipient": ["bagheri"]}, "recipient"),
        ("trace", {"talks": "muscat"}, "leaked"),
        ("trace", {"talks": "muscat", "leaked": 7}, "leaked"),
        ("trace", {"leaked": "Some words."}, "talks"),
    ],
)
def test_a_malformed_request_names_the_field(
    apps: dict[str, App], path: str, body: Any, field: str
) -> None:
    """A missing or bad field is a 400 form.invalid naming it; a consent without the version it
    consents to is one of them. Nothing is acted on."""
    before = text(apps["us"])
    with apps["us"].client() as client:
        response = client.post(f"/api/text/{path}", json=body)
    _problem(response, 400, "form.invalid")
    assert response.json()["detail"].startswith(field)
    assert text(apps["us"]) == before


# --- consenting ----------------------------------------------------------------------------------


def test_what_a_party_may_do_is_what_its_engine_says(
    apps: dict[str, App], ports: dict[str, Any]
) -> None:
    """Each refusal the page shows is the one the act itself then gets: the US member holds
    'propose' (mandate.insufficient for every consent); the mediator is no party to the text."""
    for name, code in (("us", "mandate.insufficient"), ("oman", "text.not_a_party")):
        shown = article(apps[name], ports["id"])
        assert shown is not None
        for consent in CONSENTS:
            assert shown["may"][consent]["code"] == code
            assert shown["may"][consent]["message"]
            response = act(
                apps[name],
                consent,
                {"talks": "muscat", "article": ports["id"], "version": ports["version"]},
            )
            _problem(response, 403, code)
            assert response.json()["detail"] == shown["may"][consent]["message"]


def test_a_member_with_accept_agrees_and_initials_but_may_not_sign(
    oslo: dict[str, App],
) -> None:
    """Sullivan holds 'accept': a bracketed article he may not agree yet (text.bracketed); once
    the mediator's new version has no bracket, he agrees it and initials it, and both devices
    show the US's stage and the article's status; signing needs 'sign'. A consent naming the
    version he saw is refused once a newer one exists (text.stale)."""
    oman, us = oslo["oman"], oslo["us"]

    def version(number: int) -> dict[str, Any]:
        return {"talks": "oslo", "article": "art-1", "version": number}

    assert draft(oman, "oslo", "art-1", "The talks [continue | end].", "Talks").status_code == 200
    seen = wait_for(lambda: article(us, "art-1", "oslo"))
    assert seen["may"]["agree"]["code"] == "text.bracketed"
    _problem(act(us, "agree", version(1)), 409, "text.bracketed")

    assert draft(oman, "oslo", "art-1", "The talks continue.").status_code == 200
    seen = wait_for(lambda: (a := article(us, "art-1", "oslo")) and a["version"] == 2 and a)
    assert seen["status"] == "clean" and seen["may"]["agree"] is None
    assert seen["may"]["initial"]["code"] == "text.awaiting_parties"
    _problem(act(us, "agree", version(1)), 409, "text.stale")
    done = act(us, "agree", version(2))
    assert done.status_code == 200, done.text
    assert done.json() == {"talks": "oslo", "article": "art-1", "version": 2, "act": "agree"}
    for app in (us, oman):
        agreed = wait_for(
            lambda app=app: (
                (a := article(app, "art-1", "oslo")) and a["status"] == "agreed-ad-ref" and a
            )
        )
        assert agreed["parties"] == {"us": "agreed-ad-ref"}
    now = article(us, "art-1", "oslo")
    assert now is not None
    assert now["may"]["agree"]["code"] == "text.duplicate" and now["may"]["initial"] is None
    assert act(us, "initial", version(2)).status_code == 200
    initialled = wait_for(
        lambda: (a := article(oman, "art-1", "oslo")) and a["status"] == "initialled" and a
    )
    assert initialled["parties"] == {"us": "initialled"}
    mine = article(us, "art-1", "oslo")
    assert mine is not None and mine["may"]["sign"]["code"] == "mandate.insufficient"
    _problem(
        act(us, "sign", version(2)),
        403,
        "mandate.insufficient",
    )


# --- copies and leaks ----------------------------------------------------------------------------


def issue(app: App, recipient: str, talks: str = "muscat") -> httpx.Response:
    with app.client() as client:
        return client.post("/api/text/issue", json={"talks": talks, "recipient": recipient})


def trace(app: App, leaked: str, talks: str = "muscat") -> dict[str, Any]:
    with app.client() as client:
        response = client.post("/api/text/trace", json={"talks": talks, "leaked": leaked})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_leaked_copy_names_the_member_it_was_issued_to(apps: dict[str, App]) -> None:
    """The page lists the members a copy may go to. The mediator downloads a copy for two of
    them (an attachment named after the talks and the member, marked differently); an excerpt
    of each (its first line cut off) traces back to its member, every space agreeing. Retyped
    (no no-break space left) it carries no marks; Iran's device, holding another key, matches
    no copy; a copy for someone outside the talks is refused (input.invalid)."""
    oman = apps["oman"]
    members = {m["id"]: m for m in text(oman)["members"]}
    assert {"envoy", "mcgurk", "bagheri"} <= set(members)
    assert members["bagheri"]["party"] == "iran"
    article_id = f"art-guarantees-{secrets.token_hex(3)}"
    assert draft(oman, "muscat", article_id, LONG, "Guarantees").status_code == 200

    issued: dict[str, str] = {}
    for member in ("mcgurk", "bagheri"):
        response = issue(oman, member)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="muscat-text-{member}.txt"'
        )
        assert response.headers["cache-control"] == "no-store"
        issued[member] = response.content.decode("utf-8")
        plain = issued[member].replace(MARK, " ")
        assert member in plain.splitlines()[0] and "permanent peace" in plain
        assert MARK in issued[member]
    bodies = [copy.split("\n", 1)[1] for copy in issued.values()]
    assert bodies[0] != bodies[1]  # the same words, marked for each member in other spaces
    assert bodies[0].replace(MARK, " ") == bodies[1].replace(MARK, " ")

    for member, copy in issued.items():
        found = trace(oman, copy.split("\n", 1)[1])
        assert (found["verdict"], found["recipient"]) == ("identified", member)
        assert found["matches"][0] == {
            "member": member,
            "agreeing": found["spaces"],
            "disagreeing": 0,
        }
        assert 0 < found["marks"] < found["spaces"] and found["chance"] < 1e-6

    retyped = trace(oman, issued["bagheri"].replace(MARK, " "))
    assert (retyped["verdict"], retyped["recipient"], retyped["marks"]) == ("no-marks", None, 0)
    elsewhere = trace(apps["iran"], issued["bagheri"])
    assert (elsewhere["verdict"], elsewhere["recipient"]) == ("no-match", None)

    _problem(issue(oman, "nobody"), 400, "input.invalid")


def test_a_leak_longer_than_a_request_may_be_is_refused(apps: dict[str, App]) -> None:
    """The leak is bounded by the app's body limit (64 KiB): a larger one is a 413."""
    with apps["oman"].client() as client:
        response = client.post(
            "/api/text/trace", json={"talks": "muscat", "leaked": "word " * 14_000}
        )
    assert response.status_code == 413


def test_the_mediator_cannot_quote_what_may_not_leave_its_room(apps: dict[str, App]) -> None:
    """Iran tells the mediator something mediator-only and something to carry verbatim. A draft
    repeating the first, even re-punctuated and in another case, is refused by the mediator's own
    device (text.quotes_confidential) and reaches nobody; quoting the second is allowed."""
    aside = f"Between us {secrets.token_hex(2)}: we cannot restrain every group in Yemen today."
    public = f"Iran {secrets.token_hex(2)} asks that shipping attacks end once Gaza is calm."
    with apps["iran"].client() as client:
        for words, label in ((aside, "mediator-only"), (public, "carry-verbatim")):
            body = {"talks": "muscat", "room": "iran-caucus", "text": words, "label": label}
            assert client.post("/api/send", json={**body, "lang": "en"}).status_code == 200
    wait_for(lambda: public in str(apps["oman"].profile.participant("muscat").view.messages))
    article_id = f"art-quote-{secrets.token_hex(3)}"
    quoting = "The parties note: WE CANNOT RESTRAIN every group, in Yemen, today; " + RED_SEA
    response = draft(apps["oman"], "muscat", article_id, quoting)
    _problem(response, 409, "text.quotes_confidential")
    assert "we cannot restrain every group in yemen today" in response.json()["detail"]
    assert article(apps["oman"], article_id) is None
    allowed = draft(apps["oman"], "muscat", article_id, "The parties record: " + public)
    assert allowed.status_code == 200, allowed.text
