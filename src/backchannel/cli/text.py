"""``backchannel text show|draft|agree|initial|sign|issue|trace``: the negotiating text by CLI.

The pen-holder (the mediator in mediated talks, any party's drafter otherwise) drafts articles,
with square brackets around language not agreed yet; each party then agrees an article ad
referendum, initials it and signs it, always naming the version it read (``--version`` has no
default: a party consents to words it has read, never to "whatever is current"). Every act is
checked by this device's own engine first; a refusal prints the rule's code and sentence and exits
2, having sent nothing. ``show`` prints the text as this device sees it after syncing. ``issue``
writes a member's own marked copy (UTF-8 text, or ``--pdf`` a PDF) and ``trace`` names the
member a leaked copy came from, a text excerpt or a PDF file (:mod:`backchannel.client.copies`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from backchannel.cli.app import EXIT_FAILED, app, console, emit_json
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, failures, opened
from backchannel.client import copies
from backchannel.engine import Talks
from backchannel.engine import events as ev
from backchannel.engine import text as draft
from backchannel.engine.watermark import MARK
from backchannel.errors import InputError
from backchannel.replay import text_json

text_app = typer.Typer(
    help="The single negotiating text: draft articles, agree, initial and sign them.",
    no_args_is_help=True,
)
app.add_typer(text_app, name="text")

ArticleArgument = typer.Argument(..., help="The article's id (e.g. art-1).")
VersionOption = typer.Option(
    ..., "--version", help="The version you read and consent to (required: never 'the latest')."
)


def _entry(view: Talks, article: str) -> dict[str, Any]:
    """The article as ``text_json`` prints it."""
    return next(entry for entry in text_json(view) if entry["id"] == article)


def _print_article(entry: dict[str, Any]) -> None:
    """One article: heading, status and version, the words with brackets highlighted, stages."""
    head = Text()
    head.append(f"Article {entry['number']}", style="bold")
    if entry["title"]:
        head.append(f" — {entry['title']}", style="bold")
    head.append(f"  ({entry['id']}, version {entry['version']}", style="dim")
    head.append(f", {entry['lang']})" if entry["lang"] else ")", style="dim")
    head.append(f"  {entry['status']}", style="green" if not entry["brackets"] else "yellow")
    console.print(head)
    words = Text("    ")
    for segment in entry["segments"]:
        if isinstance(segment, str):
            words.append(segment)
        else:
            words.append("[" + " | ".join(segment["alternatives"]) + "]", style="bold yellow")
    console.print(words)
    stages = ", ".join(f"{p}: {s or 'none yet'}" for p, s in entry["parties"].items())
    console.print(Text(f"    {stages}", style="dim"))


@text_app.command("show")
def show(
    alias: str = typer.Argument(..., help="The talks."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """The negotiating text as this device sees it: every article, its status and stages."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        view = unlocked.participant(alias).view
        articles = text_json(view)
    if as_json:
        emit_json({"talks": alias, "articles": articles})
        return
    if not articles:
        console.print(f"No article drafted in {alias} yet.")
    for entry in articles:
        _print_article(entry)


def _words(given: str | None, file: Path | None) -> str:
    """The article's words, from ``--text`` or ``--file`` (exactly one of them)."""
    if given is not None and file is None:
        return given
    if file is None or given is not None:
        raise InputError("give the article's words with --text or --file (exactly one)")
    try:
        return file.read_text(encoding="utf-8").rstrip("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file} cannot be read as UTF-8 text") from exc


@text_app.command("draft")
def draft_article(
    alias: str = typer.Argument(..., help="The talks."),
    article: str = ArticleArgument,
    words: str | None = typer.Option(
        None, "--text", help="The article's words; [contested] or [one | other]."
    ),
    file: Path | None = typer.Option(None, "--file", help="Read the article's words from a file."),
    title: str = typer.Option("", "--title", help="The article's title (default: keep it)."),
    lang: str = typer.Option("", "--lang", help="Its language (en, ar, fa…)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Draft a new article, or the next version of one (the pen-holder only; a signed act)."""
    with failures(as_json=as_json):
        body = _words(words, file)
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        unlocked.act(
            participant, ev.DraftArticle, article=article, text=body, title=title, lang=lang
        )
        entry = _entry(participant.view, article)
    if as_json:
        emit_json(entry)
        return
    console.print(f"Drafted {article}: version {entry['version']}, {entry['status']}.")
    _print_article(entry)


def _consent(
    alias: str,
    article: str,
    version: int,
    kind: type[ev.ArticleConsent],
    profile: Path | None,
    passphrase_file: Path | None,
    *,
    as_json: bool,
) -> None:
    """Perform a consent act on ``version`` of ``article``; print the party's stage on it and the
    article's status after it."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        event = unlocked.act(participant, kind, article=article, version=version)
        view = participant.view
        consented = view.articles[article]
        party = consented.consents[-1].party  # the consent this act just added
        stage = draft.party_stage(consented, party)
        data = {
            "talks": alias,
            "article": article,
            "version": version,
            "actor": event.actor,
            "party": party,
            "stage": None if stage is None else stage.value,
            "status": draft.status(view, consented).value,
        }
    if as_json:
        emit_json(data)
    else:
        console.print(
            f"{event.actor} ({party}): {event.action.value} {article} v{version}. "
            f"{party}: {data['stage']}; the article: {data['status']}."
        )


def _consent_command(name: str, kind: type[ev.ArticleConsent], summary: str) -> None:
    """Register ``text NAME``: one consent act, the same options for all three."""

    def command(
        alias: str = typer.Argument(..., help="The talks."),
        article: str = ArticleArgument,
        version: int = VersionOption,
        profile: Path | None = ProfileOption,
        passphrase_file: Path | None = PassphraseOption,
        as_json: bool = JsonOption,
    ) -> None:
        _consent(alias, article, version, kind, profile, passphrase_file, as_json=as_json)

    command.__doc__ = summary
    text_app.command(name)(command)


_consent_command(
    "agree",
    ev.AgreeArticle,
    "Agree a version ad referendum, for your party (needs 'accept' and no bracket left).",
)
_consent_command(
    "initial",
    ev.InitialArticle,
    "Initial a version for your party, once every party agreed it (needs 'accept').",
)
_consent_command(
    "sign",
    ev.SignArticle,
    "Sign a version for your party, once every party initialled it (needs 'sign').",
)


@text_app.command("issue")
def issue(
    alias: str = typer.Argument(..., help="The talks."),
    recipient: str = typer.Option(..., "--to", help="The member the copy is for."),
    out: Path = typer.Option(..., "--out", help="Where to write the copy."),
    pdf: bool = typer.Option(False, "--pdf", help="Write a PDF copy instead of UTF-8 text."),
    visible: bool = typer.Option(
        True,
        "--visible/--no-visible",
        help="PDF: print the member, its party and the time on every page (as the talks decide).",
    ),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Write a member's own copy of the text: marked in its spaces, so a leak can be traced."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        if pdf:
            issued = datetime.now(UTC) if visible else None
            content = copies.issue_pdf(unlocked, alias, recipient, issued)
            marks = copies.issue(unlocked, alias, recipient).count(MARK)
        else:
            copy = copies.issue(unlocked, alias, recipient)
            content, marks = copy.encode("utf-8"), copy.count(MARK)
    with failures(as_json=as_json):
        try:
            out.write_bytes(content)
        except OSError as exc:
            raise InputError(f"{out} cannot be written: {exc.strerror}") from exc
    data = {
        "talks": alias,
        "recipient": recipient,
        "out": str(out),
        "format": "pdf" if pdf else "text",
        "marks": marks,
    }
    if as_json:
        emit_json(data)
    else:
        kind = "PDF copy" if pdf else "Copy"
        console.print(f"{kind} for {recipient} written to {out} ({marks} marked spaces).")


@text_app.command("trace")
def trace(
    alias: str = typer.Argument(..., help="The talks."),
    leaked: Path = typer.Argument(
        ..., help="The leaked copy or excerpt: UTF-8 text, or a PDF file (a copy or a stamped one)."
    ),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Which member's copy a leak comes from (exit 0 only when one member is identified)."""
    with failures(as_json=as_json):
        try:
            content = leaked.read_bytes()
            is_pdf = content.lstrip()[:5] == b"%PDF-"
            words = "" if is_pdf else content.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{leaked} cannot be read as UTF-8 text or a PDF") from exc
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        if is_pdf:
            found, holder = copies.trace_pdf(unlocked, alias, content)
            data = {**copies.trace_json(found), "format": "pdf", "metadata_holder": holder}
        else:
            data = {**copies.trace_json(copies.trace(unlocked, alias, words)), "format": "text"}
    if as_json:
        emit_json(data)
    else:
        best = data["matches"][0] if data["matches"] else None
        console.print(
            f"{data['verdict']}: {data['recipient'] or 'no one identified'}; "
            f"{data['spaces']} spaces compared, {data['marks']} marked; chance of another copy "
            f"matching as well: {data['chance']:.1e}."
        )
        if best is not None and data["recipient"] is None:
            console.print(
                f"Closest copy: {best['member']} ({best['disagreeing']} spaces disagree)."
            )
    if data["verdict"] != "identified":
        raise typer.Exit(EXIT_FAILED)
