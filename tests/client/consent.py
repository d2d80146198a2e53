"""Three real profiles on one real host, up to an offer accepted ad referendum: for confirmations.

Oman convenes and mediates (its envoy), the US joins with McGurk holding ``accept`` and Iran with
Bagheri holding ``propose``; each profile's device is both its party's root and its member, as
``talks create|join --member`` make it. In the plenary, Bagheri offers and McGurk accepts the
offer ad referendum: what the US root may then confirm.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nacl.pwhash

from backchannel.client.profile import Profile
from backchannel.client.simulation import temporary_host
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, Level, RoomKind
from tests.client.people import join, settle

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
PASSPHRASE = "a passphrase for tests"
OFFER = "offer"


@contextmanager
def accepted_offer(scratch: Path) -> Iterator[dict[str, Profile]]:
    """The three profiles (by party), synced, after McGurk accepted Bagheri's offer."""
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        people: dict[str, Profile] = {}
        try:
            for name in ("oman", "us", "iran"):
                people[name] = Profile.create(
                    scratch / name, PASSPHRASE, host_url=url, name=name, kdf_limits=FAST
                )
            oman, us, iran = people["oman"], people["us"], people["iran"]
            oman.create_talks("t", party="oman", member="envoy", mediator=True)
            joining = ((us, "mcgurk", Level.ACCEPT), (iran, "bagheri", Level.PROPOSE))
            for profile, member, level in joining:
                join(oman, profile, profile.name, member, level=level, others=people.values())
            oman.act(oman.talks["t"], ev.CreateRoom, room="plenary", kind=RoomKind.PLENARY)
            sync(people)
            for profile in people.values():
                profile.act(
                    profile.talks["t"], ev.Join, room="plenary", member=profile.talks["t"].me
                )
                sync(people)
            iran.act(
                iran.talks["t"],
                ev.Propose,
                message=OFFER,
                room="plenary",
                text="Talks continue if the strikes stop",
                label=Label.CARRY_VERBATIM,
            )
            sync(people)
            us.act(us.talks["t"], ev.Accept, proposal=OFFER)
            sync(people)
            yield people
        finally:
            for profile in people.values():
                profile.close()


def sync(people: dict[str, Profile]) -> None:
    """Every profile fetches what was sent to it, and answers (see :func:`people.settle`)."""
    settle(people.values())
