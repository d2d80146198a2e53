"""``backchannel talks create|invite|join|list`` and ``backchannel room create|join``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from backchannel.cli.app import app, console, done, emit_json, err_console
from backchannel.cli.local import (
    JsonOption,
    KdfOption,
    PassphraseOption,
    ProfileOption,
    dropped_json,
    failures,
    kdf_limits,
    opened,
    passphrase,
    profile_dir,
)
from backchannel.client.files import ProfileFiles
from backchannel.client.invites import Invite
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.crypto import fingerprint
from backchannel.engine import events as ev
from backchannel.engine.names import Names
from backchannel.engine.rules import Level, RoomKind

talks_app = typer.Typer(help="Convene, join and list talks.", no_args_is_help=True)
room_app = typer.Typer(help="Create and join rooms.", no_args_is_help=True)
app.add_typer(talks_app, name="talks")
app.add_typer(room_app, name="room")

LEVELS = {level.label: level for level in Level}
_IN = "LANG=TEXT, repeatable: the same in another language (e.g. ar=سلطنة عُمان)."


def _names(given: list[str] | None, option: str) -> Names:
    """``LANG=TEXT`` options as names in other languages; a bad one is a usage error."""
    found: dict[str, str] = {}
    for item in given or []:
        lang, sep, text = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} is not LANG=TEXT", param_hint=option)
        found[lang.strip()] = text.strip()
    try:
        return Names.of(found)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


TitleIn: Any = typer.Option(None, "--title-in", help=_IN)
PartyNameIn: Any = typer.Option(None, "--party-name-in", help=_IN)
MemberNameIn: Any = typer.Option(None, "--member-name-in", help=_IN)
RoomNameIn: Any = typer.Option(None, "--name-in", help=_IN)


def _level(text: str) -> Level:
    if text not in LEVELS:
        raise typer.BadParameter(f"a mandate level is one of {', '.join(LEVELS)}")
    return LEVELS[text]


@talks_app.command("create")
def create(
    alias: str = typer.Argument(..., help="A short name for the talks (it never leaves devices)."),
    party: str = typer.Option(..., "--party", help="Your party's id in the talks."),
    member: str | None = typer.Option(None, "--member", help="Your member id (omit: root only)."),
    level: str = typer.Option("sign", "--level", help="The mandate your member holds."),
    mediator: bool = typer.Option(False, "--mediator", help="Your party mediates."),
    title: str = typer.Option("", "--title", help="The talks' title, shown to those invited."),
    title_in: list[str] | None = TitleIn,
    party_name: str = typer.Option("", "--party-name", help="Your party's name."),
    party_name_in: list[str] | None = PartyNameIn,
    member_name: str = typer.Option("", "--member-name", help="Your member's name."),
    member_name_in: list[str] | None = MemberNameIn,
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Convene talks: this device declares its party (as its root authority) and member."""
    held = _level(level)
    names = {
        "title_names": _names(title_in, "--title-in"),
        "party_names": _names(party_name_in, "--party-name-in"),
        "member_names": _names(member_name_in, "--member-name-in"),
    }
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.create_talks(
            alias,
            party=party,
            member=member,
            level=held,
            mediator=mediator,
            title=title,
            party_name=party_name,
            member_name=member_name,
            **names,
        )
        _print_talks(unlocked, alias, participant, as_json=as_json)


@talks_app.command("invite")
def invite(
    alias: str = typer.Argument(..., help="The talks."),
    party: str = typer.Option(..., "--party", help="The party the invite admits."),
    ttl: int = typer.Option(7 * 24 * 3600, "--ttl", help="Seconds the invite stays valid."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a single-use invite for one device of a party; pass it on out of band."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        issued = unlocked.invite(alias, party, ttl)
        data = {
            "talks": alias,
            "party": party,
            "invite": issued.encode(),
            "fingerprint": unlocked.fingerprint,
        }
        if as_json:
            emit_json(data)
            return
        # The code alone on stdout, so that INVITE=$(backchannel talks invite …) holds it; the
        # guidance on stderr, where the person still reads it.
        err_console.print(f"Invite for [bold]{party}[/] to {alias} (single use, below).")
        print(data["invite"])
        err_console.print(
            f"Pass it on out of band. When they join, they should read your fingerprint back: "
            f"[bold]{unlocked.fingerprint}[/]"
        )


@talks_app.command("join")
def join(
    code: str = typer.Argument(..., help="The invite string (bc1:…)."),
    member: str | None = typer.Option(None, "--member", help="Your member id (omit: root only)."),
    level: str = typer.Option("sign", "--level", help="The mandate your member holds."),
    alias: str | None = typer.Option(None, "--as", help="A local name for the talks."),
    name: str = typer.Option(
        "", "--name", help="With no profile yet: a name for the one this creates."
    ),
    party_name: str = typer.Option("", "--party-name", help="Your party's name."),
    party_name_in: list[str] | None = PartyNameIn,
    member_name: str = typer.Option("", "--member-name", help="Your member's name."),
    member_name_in: list[str] | None = MemberNameIn,
    kdf: str = KdfOption,
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Join talks with an invite, as the root authority of the invited party.

    With no profile in the directory yet, one is created on the invite's host (the invite names
    it), with a new passphrase."""
    held = _level(level)
    party_names = _names(party_name_in, "--party-name-in")
    member_names = _names(member_name_in, "--member-name-in")
    with failures(as_json=as_json):
        received = Invite.decode(code)
        where = profile_dir(profile)
        if not ProfileFiles.exists(where):
            secret = passphrase(passphrase_file, confirm=True)
            Profile.create(
                where, secret, host_url=received.host, name=name, kdf_limits=kdf_limits(kdf)
            ).close()
            if not as_json:
                err_console.print(f"Created a profile in {where} on {received.host}.")
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.join(
            received,
            alias=alias,
            member=member,
            level=held,
            party_name=party_name,
            party_names=party_names,
            member_name=member_name,
            member_names=member_names,
        )
        sponsor = fingerprint(received.sponsor.certificate.identity)
        local = alias or received.talks_id
        if as_json:
            emit_json({**_talks_json(unlocked, local, participant), "sponsor_fingerprint": sponsor})
            return
        console.print(f"Joined [bold]{received.title or local}[/] as {received.party}.")
        inviter = received.sponsor.member or received.sponsor.party
        console.print(
            f"Compare the fingerprint of the device that invited you with its holder "
            f"({inviter}), aloud: [bold]{sponsor}[/]\n"
            f"then run: backchannel verify-device {local} {inviter} --fingerprint"
        )


@talks_app.command("list")
def list_talks(
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """The talks this profile takes part in."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        found = [_talks_json(unlocked, alias, p) for alias, p in sorted(unlocked.talks.items())]
        if as_json:
            emit_json({"talks": found})
            return
        table = Table("talks", "title", "as", "parties", "rooms", "devices", "verified", "dropped")
        for t in found:
            table.add_row(
                t["alias"],
                t["title"],
                t["me"],
                ", ".join(t["parties"]),
                ", ".join(t["rooms"]),
                str(len(t["devices"])),
                str(sum(1 for d in t["devices"] if d["verified"])),
                str(len(t["dropped"])),
            )
        console.print(table)


@room_app.command("create")
def room_create(
    alias: str = typer.Argument(..., help="The talks."),
    room: str = typer.Argument(..., help="The new room's id."),
    kind: RoomKind = typer.Option(..., "--kind", help="caucus, delegation or plenary."),
    party: str | None = typer.Option(
        None, "--party", help="The party a caucus or delegation room belongs to."
    ),
    name: str = typer.Option("", "--name", help="The room's name."),
    name_in: list[str] | None = RoomNameIn,
    join: bool = typer.Option(
        True, "--join/--no-join", help="Join the room you create (default: yes, if you may)."
    ),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a room (the engine checks who may) and join it."""
    names = _names(name_in, "--name-in")
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        fields = {"room": room, "kind": kind, "party": party, "name": name, "names": names}
        unlocked.act(participant, ev.CreateRoom, **fields)
        # The creator joins what it creates when it may: a mediator who opens a caucus is in it
        # before the party speaks there (else it would never read what is said first).
        joined = join and participant.me in participant.view.members
        if joined:
            unlocked.act(participant, ev.Join, room=room, member=participant.me)
        data = {"talks": alias, "room": room, "joined": joined}
        said = f"Room {room} created" + (f"; {participant.me} is in it." if joined else ".")
        done(said, data, as_json=as_json)


@room_app.command("join")
def room_join(
    alias: str = typer.Argument(..., help="The talks."),
    room: str = typer.Argument(..., help="The room."),
    member: str | None = typer.Option(None, "--member", help="Add this member (as its root)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Join a room yourself, or add a member of your party to it."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        participant = unlocked.participant(alias)
        who = member or participant.me
        fields: dict[str, Any] = {"room": room, "member": who}
        if member is not None and member != participant.me and participant.introduction:
            fields["actor"] = participant.introduction.party
        unlocked.act(participant, ev.Join, **fields)
        done(f"{who} is in {room}.", {"talks": alias, "room": room, "member": who}, as_json=as_json)


def _talks_json(profile: Profile, alias: str, participant: Participant) -> dict[str, Any]:
    view = participant.view
    return {
        "alias": alias,
        "title": profile.titles.get(alias, ""),
        "talks_id": view.id,
        "me": participant.me,
        "convener": participant.convener == profile.device.device_id,
        "parties": sorted(view.parties),
        "members": sorted(view.members),
        "rooms": sorted(r.id for r in view.rooms.values() if participant.me in r.members),
        "devices": participant.directory.devices_json(participant.verified),
        "dropped": dropped_json(participant),
    }


def _print_talks(profile: Profile, alias: str, participant: Participant, *, as_json: bool) -> None:
    data = _talks_json(profile, alias, participant)
    if as_json:
        emit_json(data)
        return
    console.print(f"Talks [bold]{alias}[/] convened; you are {participant.me}.")
    console.print(f"Invite each party with: backchannel talks invite {alias} --party PARTY")
