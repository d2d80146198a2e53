"""``backchannel device list|add|revoke`` and ``backchannel member add``: who is in the talks.

- ``device list`` — every device of the talks this device knows: who holds it, its owner's
  identity fingerprint (to compare out of band), whether it was verified, whether it is revoked.
- ``device add`` — a link for another device of your member, written to a file sealed with your
  passphrase (it carries your identity key: keep it as secret as the profile). On the new
  device: ``backchannel profile create --from-link FILE``. Your device adds it to the talks when
  it next syncs.
- ``device revoke`` — your member's device (or, as your party's root, one of your members'): no
  new event is addressed to it; a device of your own identity is revoked at the host too.
- ``member add`` — an invite for a new member of your party (as its root), with its mandate.
  The newcomer runs ``backchannel talks join CODE``; your device adds the member and grants
  its mandate when it next syncs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from backchannel.cli.app import app, console, done, emit_json, err_console
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, opened, passphrase
from backchannel.client.participant import Participant
from backchannel.crypto import fingerprint
from backchannel.engine.rules import Level

device_app = typer.Typer(help="List, add and revoke the devices of talks.", no_args_is_help=True)
member_app = typer.Typer(help="Add a member to your party.", no_args_is_help=True)
app.add_typer(device_app, name="device")
app.add_typer(member_app, name="member")


def devices_json(participant: Participant) -> list[dict[str, Any]]:
    """Every device of the talks, with the member's name, as ``device list --json`` shows it."""
    names = {m.id: m.name or m.id for m in participant.view.members.values()}
    return [
        {**d, "name": names.get(d["member"] or "", d["member"] or d["party"])}
        for d in participant.devices_json()
    ]


@device_app.command("list")
def device_list(
    alias: str = typer.Argument(..., help="The talks."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Every device of the talks: who holds it, its fingerprint, verified, revoked."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        rows = devices_json(unlocked.participant(alias))
    if as_json:
        emit_json({"talks": alias, "devices": rows})
        return
    table = Table("device", "who", "party", "fingerprint", "verified", "revoked")
    for row in rows:
        who = row["name"] + (" (this device)" if row["this_device"] else "")
        table.add_row(
            row["device"],
            who,
            row["party"] or "",
            row["fingerprint"],
            "yes" if row["verified"] else "no",
            "[red]revoked[/]" if row["revoked"] else "",
        )
    console.print(table)


@device_app.command("add")
def device_add(
    alias: str = typer.Argument(..., help="The talks."),
    out: Path = typer.Option(..., "--out", help="Where to write the device link (mode 0600)."),
    ttl: int = typer.Option(24 * 3600, "--ttl", help="Seconds the link stays valid."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Write a link for another device of your member, sealed with your passphrase."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        sealed = unlocked.link_device(alias, passphrase(passphrase_file), ttl)
    out.touch(mode=0o600, exist_ok=True)
    out.chmod(0o600)
    out.write_text(sealed + "\n", encoding="utf-8")
    data = {"talks": alias, "link": str(out)}
    if as_json:
        emit_json(data)
        return
    console.print(f"Wrote a device link to {out}: it carries your identity key, keep it secret.")
    console.print(
        f"On the new device: backchannel profile create --from-link {out} --profile DIR; "
        "this device adds it to the talks when it next syncs."
    )


@device_app.command("revoke")
def device_revoke(
    alias: str = typer.Argument(..., help="The talks."),
    device: str = typer.Argument(..., help="The device: its id, or its member."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke a device in the talks: nothing new is addressed to it."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        revoked = unlocked.revoke_device(alias, device)
    sentence = f"Revoked {revoked} in {alias}: nothing new is addressed to it."
    done(sentence, {"talks": alias, "revoked": revoked}, as_json=as_json)


@member_app.command("add")
def member_add(
    alias: str = typer.Argument(..., help="The talks."),
    member: str = typer.Argument(..., help="The new member's id."),
    level: str = typer.Option(..., "--level", help="observe, speak, propose, accept or sign."),
    name: str = typer.Option("", "--name", help="The member's name, as the talks show it."),
    ttl: int = typer.Option(7 * 24 * 3600, "--ttl", help="Seconds the invite stays valid."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Invite a new member of your party (as its root); pass the code on out of band."""
    try:
        held = Level.parse(level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        issued = unlocked.invite_member(alias, member, level=held, name=name, ttl_seconds=ttl)
        data = {
            "talks": alias,
            "member": member,
            "level": held.label,
            "invite": issued.encode(),
            "fingerprint": fingerprint(unlocked.identity.public_key),
        }
    if as_json:
        emit_json(data)
        return
    # As `talks invite`: the code alone on stdout (CODE=$(backchannel member add …)), the rest
    # on stderr.
    err_console.print(
        f"Invite for [bold]{member}[/] ({held.label}) to {alias} (single use, below)."
    )
    print(data["invite"])
    err_console.print(
        f"They run: backchannel talks join CODE. They should read your fingerprint back: "
        f"[bold]{data['fingerprint']}[/]"
    )
