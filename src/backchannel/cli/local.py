"""What the commands that act through a local device profile share: options, unlocking, errors.

The profile directory comes from ``--profile``, else ``$BACKCHANNEL_PROFILE``, else
``~/.backchannel/profile``. The passphrase comes from ``--passphrase-file``, else
``$BACKCHANNEL_PASSPHRASE``, else a hidden prompt; it is never echoed, logged or stored.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nacl.pwhash
import typer

from backchannel.cli.app import EXIT_FAILED, EXIT_INVALID, err_console, fail
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.errors import (
    BackchannelError,
    HostUnreachable,
    InputError,
    InviteInvalid,
    KeystoreLocked,
    PassphraseMismatch,
    PassphraseMissing,
    PassphraseTooShort,
    ProfileError,
    RuleViolation,
)

DEFAULT_PROFILE = Path.home() / ".backchannel" / "profile"

ProfileOption = typer.Option(
    None,
    "--profile",
    help="The profile directory (default: $BACKCHANNEL_PROFILE or ~/.backchannel/profile).",
)
PassphraseOption = typer.Option(
    None,
    "--passphrase-file",
    help="Read the passphrase from this file (default: $BACKCHANNEL_PASSPHRASE or a prompt).",
)
JsonOption = typer.Option(False, "--json", help="Print one JSON object.")
#: A carry label, always chosen explicitly: no default, so nothing is sent under one by accident.
LabelOption = typer.Option(
    ..., "--label", help="Who may carry it: mediator-only, carry-gist or carry-verbatim."
)


def profile_dir(path: Path | None) -> Path:
    """The profile directory the user named, or the default."""
    if path is not None:
        return path
    return Path(os.environ.get("BACKCHANNEL_PROFILE") or DEFAULT_PROFILE)


#: The shortest passphrase a new profile accepts (the keystore refuses shorter ones too).
MIN_PASSPHRASE = 8

#: Argon2id cost of the keystore: moderate by default; interactive for tests and slow machines.
KDF = {
    "interactive": {
        "opslimit": nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        "memlimit": nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    },
    "moderate": {
        "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MODERATE,
        "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MODERATE,
    },
    "sensitive": {
        "opslimit": nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE,
        "memlimit": nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE,
    },
}
KdfOption = typer.Option(
    "moderate", "--kdf", help="Passphrase hardening: interactive, moderate or sensitive."
)


def kdf_limits(name: str) -> dict[str, int]:
    """The Argon2id limits ``--kdf`` names."""
    if name not in KDF:
        raise typer.BadParameter(f"--kdf is one of {', '.join(KDF)}")
    return KDF[name]


def passphrase(file: Path | None, *, confirm: bool = False) -> str:
    """The passphrase, from a file, the environment, or a hidden prompt.

    ``confirm``: it is a new profile's, so it must be long enough (said before it is typed a
    second time) and typed twice alike."""
    if file is not None:
        try:
            secret = file.read_text(encoding="utf-8").rstrip("\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the passphrase file {file}: {exc}") from exc
    elif os.environ.get("BACKCHANNEL_PASSPHRASE"):
        secret = os.environ["BACKCHANNEL_PASSPHRASE"]
    else:
        if not sys.stdin.isatty():
            raise PassphraseMissing(
                "no passphrase: give --passphrase-file, set BACKCHANNEL_PASSPHRASE, "
                "or run this in a terminal to be asked"
            )
        secret = str(typer.prompt("Passphrase", hide_input=True))
        if confirm:
            _long_enough(secret)
            if str(typer.prompt("Repeat the passphrase", hide_input=True)) != secret:
                raise PassphraseMismatch("the two passphrases differ; nothing was created")
    if confirm:
        _long_enough(secret)
    return secret


def _long_enough(secret: str) -> None:
    if len(secret) < MIN_PASSPHRASE:
        raise PassphraseTooShort(
            f"choose a passphrase of at least {MIN_PASSPHRASE} characters; nothing was created"
        )


@contextmanager
def opened(
    path: Path | None, passphrase_file: Path | None, *, as_json: bool, offline: bool = False
) -> Iterator[Profile]:
    """The unlocked profile, synced with its host; errors become a message and an exit code.

    ``offline``: a command that only reads what the device holds goes on when the host does not
    answer, saying so on stderr (what it shows may be behind)."""
    with failures(as_json=as_json):
        profile = Profile.open(profile_dir(path), passphrase(passphrase_file))
        try:
            try:
                profile.sync()
            except HostUnreachable as error:
                if not offline:
                    raise
                err_console.print(
                    f"[yellow]warning[/]: {error}; showing what this device already holds"
                )
            yield profile
        finally:
            profile.close()


@contextmanager
def failures(*, as_json: bool) -> Iterator[None]:
    """Report a Backchannel error (code and sentence) and exit: 2 for bad input, 1 otherwise."""
    try:
        yield
    except BackchannelError as error:
        invalid = isinstance(
            error, InputError | ProfileError | RuleViolation | KeystoreLocked | InviteInvalid
        )
        fail(error, as_json=as_json, exit_code=EXIT_INVALID if invalid else EXIT_FAILED)


def dropped_json(participant: Participant) -> list[dict[str, str]]:
    """The deliveries a device refused, as every ``--json`` output prints them."""
    return [
        {"device": d.sender_device, "code": d.code, "message": d.message}
        for d in participant.dropped
    ]
