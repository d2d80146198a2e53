"""``backchannel send|relay|read|contact``: speaking, carrying and reading in rooms; and
``backchannel propose|accept|sign|confirm``: offers and a party's consent to them.

Every action is checked by this device's own engine before anything leaves it; a refusal prints
the rule's code and sentence and exits 2, having sent nothing. ``confirm`` is the party's root
authority's own act (this profile holds it): the later confirmation of what its member accepted
ad referendum.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.text import Text

from backchannel import engine
from backchannel.cli.app import app, console, emit_json, err_console
from backchannel.cli.local import (
    JsonOption,
    LabelOption,
    PassphraseOption,
    ProfileOption,
    dropped_json,
    opened,
)
from backchannel.client import cautions, document
from backchannel.client.participant import Participant
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, RelayMode
from backchannel.replay import message_json


def _message_id(given: str | None) -> str:
    return given or f"m-{secrets.token_hex(6)}"


def _warn(found: list[cautions.Caution], *, as_json: bool) -> list[dict[str, Any]]:
    """Print each caution on stderr (unless ``--json``, which carries them) and return them."""
    if not as_json:
        for caution in found:
            err_console.print(f"[yellow]warning[/] {caution.code}: {caution.message}")
    return [caution.to_json() for caution in found]


@app.command()
def send(
    alias: str = typer.Argument(..., help="The talks."),
    room: str = typer.Argument(..., help="The room."),
    text: str = typer.Argument(..., help="What to say."),
    label: Label = LabelOption,
    lang: str = typer.Option("", "--lang", help="Its language (en, ar, fa…)."),
    propose: bool = typer.Option(False, "--propose", help="Send it as an offer."),
    message: str | None = typer.Option(None, "--id", help="The message id (default: random)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Send a message (or an offer) to a room, with an explicit carry label."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        kind = ev.Propose if propose else ev.Send
        mid = _message_id(message)
        found = cautions.before_send(participant.view, room)
        unlocked.act(participant, kind, message=mid, room=room, text=text, label=label, lang=lang)
        warnings = _warn(found, as_json=as_json)
        data: dict[str, Any] = {"talks": alias, "message": mid, "room": room, "label": label.value}
        data["warnings"] = warnings
        if as_json:
            emit_json(data)
        else:
            console.print(f"Sent {mid} to {room} {escape(f'[{label.value}]')}.")


@app.command()
def relay(
    alias: str = typer.Argument(..., help="The talks."),
    source: str = typer.Argument(..., help="The message to carry."),
    room: str = typer.Argument(..., help="The room to carry it into."),
    mode: RelayMode = typer.Option(..., "--mode", help="verbatim or gist."),
    text: str = typer.Option("", "--text", help="For a gist: the mediator's own words."),
    lang: str = typer.Option("", "--lang", help="The gist's language."),
    message: str | None = typer.Option(None, "--id", help="The relay's message id."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Carry a message into another room, as its label allows (mediator only)."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        mid = _message_id(message)
        found = cautions.before_relay(participant.view, room)
        unlocked.act(
            participant,
            ev.Relay,
            message=mid,
            source=source,
            room=room,
            mode=mode,
            text=text,
            lang=lang,
        )
        warnings = _warn(found, as_json=as_json)
        data: dict[str, Any] = {
            "talks": alias,
            "message": mid,
            "source": source,
            "room": room,
            "mode": mode.value,
        }
        data["warnings"] = warnings
        if as_json:
            emit_json(data)
        else:
            console.print(f"Carried {source} into {room} ({mode.value}) as {mid}.")


@app.command()
def contact(
    alias: str = typer.Argument(..., help="The talks."),
    to: str = typer.Option(..., "--to", help="The party asked."),
    via: str | None = typer.Option(None, "--via", help="The mediator carrying the request."),
    text: str = typer.Option("", "--text", help="What the request says."),
    request: str | None = typer.Option(None, "--id", help="The request's id."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Ask another party to open talks, directly or through the mediator (a signed act)."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        rid = request or f"c-{secrets.token_hex(6)}"
        unlocked.act(participant, ev.RequestContact, request=rid, to_party=to, via=via, text=text)
        data = {"talks": alias, "request": rid, "to": to, "via": via}
        if as_json:
            emit_json(data)
        else:
            console.print(f"Asked {to} {'through ' + via if via else 'directly'} ({rid}).")


@app.command()
def propose(
    alias: str = typer.Argument(..., help="The talks."),
    room: str = typer.Option(..., "--room", help="The room to make the offer in."),
    text: str = typer.Option(..., "--text", help="The offer's words."),
    label: Label = LabelOption,
    lang: str = typer.Option("", "--lang", help="Its language (en, ar, fa…)."),
    message: str | None = typer.Option(None, "--id", help="The offer's id (default: random)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Make an offer in a room: a message that can be accepted, signed and confirmed."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        mid = _message_id(message)
        found = cautions.before_send(participant.view, room)
        unlocked.act(
            participant, ev.Propose, message=mid, room=room, text=text, label=label, lang=lang
        )
        warnings = _warn(found, as_json=as_json)
        data: dict[str, Any] = {"talks": alias, "proposal": mid, "room": room, "label": label.value}
        data["warnings"] = warnings
        if as_json:
            emit_json(data)
        else:
            console.print(f"Offered {mid} in {room} {escape(f'[{label.value}]')}.")


def _consent(
    alias: str,
    proposal: str,
    kind: type[ev.Accept | ev.Sign | ev.Confirm],
    profile: Path | None,
    passphrase_file: Path | None,
    *,
    as_json: bool,
) -> None:
    """Perform a consent act on ``proposal`` and print the party's stage on the offer after it."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        fields: dict[str, str] = {"proposal": proposal}
        if kind is ev.Confirm:
            fields["actor"] = _root(participant)
        event = unlocked.act(participant, kind, **fields)
        view = participant.view
        party = event.actor if event.actor in view.parties else view.members[event.actor].party
        offer, _ = engine.origin(view, proposal)
        stage = engine.stage(view, offer, party)
        data = {
            "talks": alias,
            "proposal": proposal,
            "offer": offer,
            "actor": event.actor,
            "party": party,
            "stage": None if stage is None else stage.value,
        }
        if as_json:
            emit_json(data)
        else:
            reached = data["stage"] or "none yet"
            console.print(f"{event.actor} ({party}): {event.action.value} {proposal}; {reached}.")


def _root(participant: Participant) -> str:
    """The party whose root authority this device holds."""
    own = participant.introduction
    return own.party if own is not None and own.root else participant.me


@app.command()
def accept(
    alias: str = typer.Argument(..., help="The talks."),
    proposal: str = typer.Argument(..., help="The offer, or the verbatim copy you received."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Accept an offer ad referendum, for your party (needs an 'accept' mandate; a signed act)."""
    _consent(alias, proposal, ev.Accept, profile, passphrase_file, as_json=as_json)


@app.command()
def sign(
    alias: str = typer.Argument(..., help="The talks."),
    proposal: str = typer.Argument(..., help="The offer, or the verbatim copy you received."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Sign an offer for your party (needs a 'sign' mandate; a signed act)."""
    _consent(alias, proposal, ev.Sign, profile, passphrase_file, as_json=as_json)


@app.command()
def confirm(
    alias: str = typer.Argument(..., help="The talks."),
    proposal: str = typer.Argument(..., help="The copy of the offer your member accepted."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """As your party's root authority, confirm what your member accepted ad referendum."""
    _consent(alias, proposal, ev.Confirm, profile, passphrase_file, as_json=as_json)


@app.command()
def read(
    alias: str = typer.Argument(..., help="The talks."),
    room: str | None = typer.Option(None, "--room", help="Only this room."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """The messages you may read, as your device decrypted and checked them (without the host,
    what the device already holds)."""
    with opened(profile, passphrase_file, as_json=as_json, offline=True) as unlocked:
        participant = unlocked.participant(alias)
        messages = [
            m
            for m in engine.messages_for(participant.view, participant.me)
            if room is None or m.room == room
        ]
        if as_json:
            emit_json(
                {
                    "talks": alias,
                    "me": participant.me,
                    "messages": [_shown_json(m) for m in messages],
                    "dropped": dropped_json(participant),
                }
            )
            return
        for m in messages:
            head = Text()
            head.append(f"{m.id} ", style="bold green")
            head.append(m.at.strftime("%Y-%m-%d %H:%M "), style="dim")
            head.append(f"{m.room} ", style="bold")
            head.append(m.author, style="cyan")
            head.append(f" [{m.label.value}]", style="dim")
            if m.relay is not None:
                how = "the mediator's words" if m.relay is RelayMode.GIST else "verbatim"
                head.append(f" carried by {m.relayed_by} ({how})", style="yellow")
            if m.proposal:
                head.append(" offer", style="bold magenta")
            console.print(head)
            console.print(Text(f"    {document.shown(m.text, m.id)}"))
        if participant.dropped:
            console.print(f"[red]{len(participant.dropped)} deliveries dropped[/] (see --json)")


def _shown_json(m: engine.Message) -> dict[str, object]:
    """A message as ``read --json`` prints it; a document's descriptor (and key) left out."""
    data: dict[str, object] = message_json(m)
    found = document.parse(m.text)
    if found is not None:
        data["text"] = document.shown(m.text, m.id)
        data["document"] = {"name": found.name, "size": found.size, "sha256": found.sha256}
    return data
