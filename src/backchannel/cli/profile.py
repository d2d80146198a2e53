"""``backchannel profile create|show``: one person's device, its keys encrypted on disk."""

from __future__ import annotations

from pathlib import Path

import typer

from backchannel.cli.app import app, console, emit_json
from backchannel.cli.local import (
    JsonOption,
    KdfOption,
    PassphraseOption,
    ProfileOption,
    failures,
    kdf_limits,
    opened,
    passphrase,
    profile_dir,
)
from backchannel.client.invites import Link
from backchannel.client.profile import Profile
from backchannel.crypto import fingerprint
from backchannel.errors import InviteMalformed

profile_app = typer.Typer(help="Create and show device profiles.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")


@profile_app.command("create")
def create(
    host: str | None = typer.Option(
        None, "--host", help="The host's URL, e.g. http://127.0.0.1:8470 (a link names it)."
    ),
    name: str = typer.Option("", "--name", help="A name for this profile, kept on this device."),
    from_link: Path | None = typer.Option(
        None,
        "--from-link",
        help="A device link (backchannel device add): this device joins as another device of "
        "that member, in the talks the link names.",
    ),
    kdf: str = KdfOption,
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Create an identity and a device, register the device at the host, save them encrypted.

    With ``--from-link`` the identity is the linked member's (the link is opened with the same
    passphrase it was sealed with) and the device joins the link's talks at once."""
    with failures(as_json=as_json):
        limits = kdf_limits(kdf)
        secret = passphrase(passphrase_file, confirm=from_link is None)
        link = None if from_link is None else Link.open(_read(from_link), secret)
        url = host or (None if link is None else link.invite.host)
        if url is None:
            raise typer.BadParameter("--host is required (or --from-link, which names it)")
        created = Profile.create(
            profile_dir(profile),
            secret,
            host_url=url,
            name=name,
            kdf_limits=limits,
            identity_seed=None if link is None else link.identity_seed,
        )
        with created:
            if link is not None:
                created.join(link.invite)
            _show(created, as_json=as_json)


@profile_app.command("show")
def show(
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Show the profile: its device, its identity fingerprint, and its talks."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        _show(unlocked, as_json=as_json)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InviteMalformed(f"cannot read the device link {path}: {exc}") from exc


def _show(profile: Profile, *, as_json: bool) -> None:
    data = {
        "path": str(profile.path),
        "name": profile.name,
        "host": profile.host_url,
        "device": profile.device.device_id,
        "identity_fingerprint": profile.fingerprint,
        "device_fingerprint": fingerprint(profile.device.ed25519),
        "talks": sorted(profile.talks),
    }
    if as_json:
        emit_json(data)
        return
    console.print(f"[bold]{profile.name or 'Profile'}[/] in {profile.path}")
    console.print(f"  host         {profile.host_url}")
    console.print(f"  device       {profile.device.device_id}")
    console.print(f"  identity     [bold]{profile.fingerprint}[/]  (read it aloud to compare)")
    console.print(f"  talks        {', '.join(data['talks']) or 'none yet'}")
