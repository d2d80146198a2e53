"""The Text page's API: the single negotiating text of each talks, and acting on it.

    GET  /api/text[?talks=…]   per talks: the articles exactly as every ``--json`` output prints
                               them (:func:`replay.text_json`), and what this device may do: draft
                               (``pen``, else ``pen_refused``) and, per article, agree / initial /
                               sign (``may``: null, or the refusal's code and sentence); the
                               ``members`` a copy may be issued to
    POST /api/text/draft       {talks, article, text, title?, lang?}: a new article, or the next
                               version of one
    POST /api/text/agree       {talks, article, version}: agree that version ad referendum
    POST /api/text/initial     {talks, article, version}
    POST /api/text/sign        {talks, article, version}
    POST /api/text/issue       {talks, recipient}: that member's own copy of the text, marked in
                               its spaces (:func:`copies.issue`), as a download
    POST /api/text/trace       {talks, leaked}: which member's copy a leak comes from
                               (:func:`copies.trace_json`)

The device acts as its member, exactly as the CLI does. What it may do is never worked out here:
each act is tried on the device's own engine view (:func:`engine.apply` on a copy that is then
thrown away), so a button is disabled for the very reason the engine would refuse it, in the
engine's words. A consent names the version it consents to: the page sends the one it showed,
and a newer draft in between makes the engine refuse it (``text.stale``) rather than consent to
words the user never saw.

Copies and tracing are the CLI's ``text issue`` and ``text trace`` (:mod:`client.copies`): a copy
is marked with this device's own key, so only this device can trace the copies it issued; any
device in the talks may issue and trace, as from the command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backchannel import engine
from backchannel.client import copies
from backchannel.client.participant import Participant
from backchannel.engine import events as ev
from backchannel.engine.names import NO_NAMES
from backchannel.errors import FormInvalid, RuleViolation
from backchannel.replay import text_json
from backchannel.ui.api import MAX_BODY, blocking, form_action, read_body, talks_view
from backchannel.ui.feed import Notice
from backchannel.ui.forms import MAX_TEXT, json_object, text_field
from backchannel.ui.session import DeviceSession

#: The consents, by the name the routes and the page use, in the order they must come.
CONSENTS: Mapping[str, type[ev.ArticleConsent]] = {
    "agree": ev.AgreeArticle,
    "initial": ev.InitialArticle,
    "sign": ev.SignArticle,
}


def routes(session: DeviceSession) -> list[Route]:
    """The page's routes over ``session``."""

    def consent_route(name: str) -> Route:
        return form_action(
            f"/api/text/{name}",
            lambda body: parse_consent(body, name),
            lambda form: consent(session, form),
        )

    async def issue_route(request: Request) -> Response:
        form = parse_issue(await read_body(request))
        copy = await blocking(lambda: issue(session, form))
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{form.talks}-text-{form.recipient}")
        return Response(
            copy.encode("utf-8"),
            media_type="text/plain; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{name}.txt"',
                "cache-control": "no-store",
            },
        )

    return [
        talks_view("/api/text", lambda alias: text_page_json(session, alias)),
        form_action("/api/text/draft", parse_draft, lambda form: draft(session, form)),
        *(consent_route(name) for name in CONSENTS),
        Route("/api/text/issue", issue_route, methods=["POST"]),
        form_action("/api/text/trace", parse_trace, lambda form: trace(session, form)),
    ]


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DraftForm:
    """Write ``article`` of ``talks``: its first version, or its next one."""

    talks: str
    article: str
    text: str
    title: str = ""
    lang: str = ""


@dataclass(frozen=True, slots=True)
class ConsentForm:
    """Consent (``kind``: agree, initial or sign) to ``version`` of ``article`` of ``talks``."""

    talks: str
    kind: str
    article: str
    version: int


@dataclass(frozen=True, slots=True)
class IssueForm:
    """Issue ``recipient``'s own marked copy of the text of ``talks``."""

    talks: str
    recipient: str


@dataclass(frozen=True, slots=True)
class TraceForm:
    """Trace ``leaked`` (a copy of the text of ``talks``, or an excerpt) to its recipient."""

    talks: str
    leaked: str


def parse_draft(body: bytes) -> DraftForm:
    """A draft request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "article", "text", "title", "lang"))
    return DraftForm(
        talks=text_field(data, "talks"),
        article=text_field(data, "article", limit=64),
        text=text_field(data, "text", limit=MAX_TEXT),
        title=text_field(data, "title", required=False),
        lang=text_field(data, "lang", required=False, limit=16),
    )


def parse_consent(body: bytes, kind: str) -> ConsentForm:
    """A consent request; the version is required (a consent never means "whatever is
    current"); :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "article", "version"))
    return ConsentForm(
        talks=text_field(data, "talks"),
        kind=kind,
        article=text_field(data, "article", limit=64),
        version=_version(data, "version"),
    )


def parse_issue(body: bytes) -> IssueForm:
    """An issue request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "recipient"))
    return IssueForm(
        talks=text_field(data, "talks"),
        recipient=text_field(data, "recipient", limit=64),
    )


def parse_trace(body: bytes) -> TraceForm:
    """A trace request: the leak may be as long as a body may be (:data:`MAX_BODY`);
    :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "leaked"))
    return TraceForm(
        talks=text_field(data, "talks"),
        leaked=text_field(data, "leaked", limit=MAX_BODY),
    )


def _version(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FormInvalid(name, "give the version you consent to (a whole number from 1)")
    return value


# --- acting ----------------------------------------------------------------------------------


def draft(session: DeviceSession, form: DraftForm) -> dict[str, Any]:
    """Draft as this device's member; the engine's error if it may not (nothing is sent)."""
    with session.sync.lock:
        profile = session.profile
        participant = profile.participant(form.talks)
        profile.act(
            participant,
            ev.DraftArticle,
            article=form.article,
            text=form.text,
            title=form.title,
            lang=form.lang,
        )
        version = participant.view.articles[form.article].current.number
    session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {"talks": form.talks, "article": form.article, "version": version}


def consent(session: DeviceSession, form: ConsentForm) -> dict[str, Any]:
    """Consent as this device's member; the engine's error if it may not (nothing is sent)."""
    with session.sync.lock:
        profile = session.profile
        profile.act(
            profile.participant(form.talks),
            CONSENTS[form.kind],
            article=form.article,
            version=form.version,
        )
    session.feed.publish(Notice("changed", {"talks": [form.talks]}))
    return {"talks": form.talks, "article": form.article, "version": form.version, "act": form.kind}


def issue(session: DeviceSession, form: IssueForm) -> str:
    """The member's marked copy; :class:`InputError` if no such member or no article yet."""
    with session.sync.lock:
        return copies.issue(session.profile, form.talks, form.recipient)


def trace(session: DeviceSession, form: TraceForm) -> dict[str, Any]:
    """Which member's copy the leak comes from, as ``text trace --json`` prints it."""
    with session.sync.lock:
        return copies.trace_json(copies.trace(session.profile, form.talks, form.leaked))


# --- what the page shows ---------------------------------------------------------------------


def text_page_json(session: DeviceSession, alias: str | None = None) -> dict[str, Any]:
    """Every talks of the device (or only ``alias``: 404 ``talks.unknown`` if it has none)."""
    with session.sync.lock:
        profile = session.profile
        aliases = sorted(profile.talks) if alias is None else [alias]
        return {
            "talks": [
                {
                    **talks_text(name, profile.titles.get(name, ""), profile.participant(name)),
                    "title_names": profile.title_names.get(name, NO_NAMES).to_json(),
                }
                for name in aliases
            ]
        }


def talks_text(alias: str, title: str, participant: Participant) -> dict[str, Any]:
    """One talks' negotiating text, and what this device's member may do to it now."""
    view = participant.view
    me = participant.me
    device = participant.engine_device
    at = datetime.now(UTC).replace(microsecond=0)  # as the act itself would be dated
    probe = ev.DraftArticle(at=at, actor=me, device=device, article=_unused(view), text="…")
    pen_refused = refusal(view, probe)
    articles = text_json(view)
    for article in articles:
        article["may"] = {
            name: refusal(
                view,
                kind(
                    at=at,
                    actor=me,
                    device=device,
                    article=article["id"],
                    version=article["version"],
                ),
            )
            for name, kind in CONSENTS.items()
        }
    mediator = view.mediator
    return {
        "alias": alias,
        "title": title,
        "me": me,
        "party": _party_of(view, me),
        "mediator": None if mediator is None else mediator.id,
        "parties": {p.id: p.name or p.id for p in view.parties.values()},
        "party_names": {p.id: p.names.to_json() for p in view.parties.values()},
        "members": [
            {"id": m.id, "name": m.name or m.id, "names": m.names.to_json(), "party": m.party}
            for m in sorted(view.members.values(), key=lambda m: m.id)
        ],
        "pen": pen_refused is None,
        "pen_refused": pen_refused,
        "articles": articles,
    }


def refusal(view: engine.Talks, event: ev.Event) -> dict[str, str] | None:
    """Why the engine would refuse ``event`` now (its code and sentence), or None if it would
    not. The view is immutable: trying an event changes nothing."""
    try:
        engine.apply(view, event)
    except RuleViolation as exc:
        return exc.to_dict()
    return None


def _unused(view: engine.Talks) -> str:
    """An article id nobody uses yet, to ask the engine whether this device may draft at all."""
    used = view.used_ids()
    n = len(view.articles) + 1
    while f"article-{n}" in used:
        n += 1
    return f"article-{n}"


def _party_of(view: engine.Talks, actor: str) -> str | None:
    member = view.members.get(actor)
    if member is not None:
        return member.party
    return actor if actor in view.parties else None
