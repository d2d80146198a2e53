"""Real profiles on one real host, as tests set them up: convene, invite, join, settle.

Joining takes turns between devices, as it does between people: the newcomer introduces itself
to the device that invited it, which admits and welcomes it, and the newcomer declares itself
once welcomed; :func:`settle` lets every device take its turn until all have.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import nacl.pwhash

from backchannel.client.invites import Invite
from backchannel.client.profile import Profile
from backchannel.engine.rules import Level

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
PASSPHRASE = "a passphrase for tests"


def make(root: Path, name: str, url: str, passphrase: str = PASSPHRASE) -> Profile:
    """A new profile named ``name`` under ``root`` on the host at ``url``."""
    return Profile.create(root / name, passphrase, host_url=url, name=name, kdf_limits=FAST)


def settle(people: Iterable[Profile], rounds: int = 3) -> None:
    """Every profile syncs, ``rounds`` times over: each answers what the others sent."""
    everyone = list(people)
    for _ in range(rounds):
        for profile in everyone:
            profile.sync()


def join(
    sponsor: Profile,
    newcomer: Profile,
    party: str,
    member: str | None,
    *,
    level: Level = Level.SIGN,
    others: Iterable[Profile] = (),
    alias: str = "t",
) -> None:
    """``newcomer`` joins talks ``alias`` as ``party`` (and ``member``), by the sponsor's invite;
    everyone settles."""
    invite = Invite.decode(sponsor.invite(alias, party).encode())
    newcomer.join(invite, member=member, level=level)
    settle([sponsor, newcomer, *others])
