"""Per-recipient copies of the negotiating text, and tracing a leaked one back to its copy.

A copy is the whole text as UTF-8 plain text: a first line naming its recipient, then each
article with its number, title and current words (brackets as written). Its spaces carry the
recipient's marks (:mod:`backchannel.engine.watermark`) under this device's watermark key
(:meth:`Profile.watermark_key`), so only the device that issued a copy can trace it, and tracing
needs no list of what was issued: every member of the talks is a candidate.

A copy can also be a PDF (:mod:`backchannel.documents`): the same text, shaped for Arabic and
Persian, carrying the same marks in its text layers, with an optional visible line naming the
member, its party and the time of issue. A leaked PDF is traced from its hidden text layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backchannel import documents
from backchannel.client.profile import Profile
from backchannel.engine import Talks, text, watermark
from backchannel.errors import InputError


def document(view: Talks, recipient: str) -> str:
    """The negotiating text as ``recipient``'s copy shows it, before marking."""
    member = view.members[recipient]
    lines = [
        f"{view.title or view.id} — negotiating text. Copy for {member.name or member.id} "
        f"({member.id}); do not forward.",
        "",
    ]
    for article in text.articles(view):
        heading = f"Article {article.position}"
        lines += [f"{heading} — {article.title}" if article.title else heading, ""]
        lines += [article.current.text, ""]
    return "\n".join(lines)


def _issuable(profile: Profile, alias: str, recipient: str) -> Talks:
    view = profile.participant(alias).view
    if recipient not in view.members:
        raise InputError(f"{recipient!r} is not a member of {alias}: a copy goes to a member")
    if not view.articles:
        raise InputError(f"{alias} has no article yet: there is nothing to issue")
    return view


def issue(profile: Profile, alias: str, recipient: str) -> str:
    """``recipient``'s marked copy of the text of talks ``alias``."""
    view = _issuable(profile, alias, recipient)
    return watermark.mark(document(view, recipient), profile.watermark_key(alias), recipient)


def issue_pdf(profile: Profile, alias: str, recipient: str, issued: datetime | None) -> bytes:
    """``recipient``'s marked copy of the text as a PDF; with the visible line naming it, its
    party and ``issued`` (the talks' choice), or without any visible line if ``issued`` is None."""
    view = _issuable(profile, alias, recipient)
    member = view.members[recipient]
    party = view.parties.get(member.party)
    visible = None
    if issued is not None:
        visible = documents.VisibleMark(
            member=member.name or member.id,
            party=(party.name if party else "") or member.party,
            time=issued.strftime("%Y-%m-%d %H:%M %Z").strip(),
        )
    return documents.render_text(
        document(view, recipient),
        profile.watermark_key(alias),
        recipient,
        title=f"{view.title or view.id} — negotiating text",
        visible=visible,
    )


def trace(profile: Profile, alias: str, leaked: str) -> watermark.Trace:
    """Which member's copy ``leaked`` (a copy, or any excerpt of one, text pasted out of a PDF
    copy or a stamped PDF included) comes from."""
    view = profile.participant(alias).view
    return documents.trace_excerpt(leaked, profile.watermark_key(alias), sorted(view.members))


def trace_pdf(profile: Profile, alias: str, leaked: bytes) -> tuple[watermark.Trace, str | None]:
    """Which member's copy the leaked PDF comes from, by its text, and whose copy id its metadata
    holds (None if stripped or not ours)."""
    view = profile.participant(alias).view
    key, members = profile.watermark_key(alias), sorted(view.members)
    return documents.trace_pdf(leaked, key, members), documents.holder(leaked, key, members)


def trace_json(found: watermark.Trace) -> dict[str, Any]:
    """A trace as ``text trace --json`` and the app print it."""
    return {
        "verdict": found.verdict.value,
        "recipient": found.recipient,
        "spaces": found.observed,
        "marks": found.marks,
        "chance": found.chance,
        "matches": [
            {"member": m.recipient, "agreeing": m.agreeing, "disagreeing": m.disagreeing}
            for m in found.matches
        ],
    }
