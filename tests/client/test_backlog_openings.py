"""A newcomer's backlog opens in the record: every device exports a bundle that verifies.

The convener's earlier formal acts (its party's declaration, its member's grant) reach a device
that joins later only in the backlog. They travel with their record salts, so the newcomer holds
their openings: its own exported record shows the mandate each act rests on, and its witness
proves them in the log without taking them for deliveries out of order.
"""

from __future__ import annotations

from pathlib import Path

import nacl.pwhash

from backchannel.client import bundle
from backchannel.client.invites import Invite
from backchannel.client.profile import Profile
from backchannel.client.simulation import temporary_host
from backchannel.engine import events as ev
from backchannel.engine.rules import Level, RoomKind
from tests.client.people import settle

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


def test_every_device_exports_a_record_that_verifies(tmp_path: Path) -> None:
    """Oman convenes, the US and Iran join, each has a caucus: each device's own bundle
    verifies offline and opens Oman's declaration and its envoy's grant; no alarm anywhere."""
    with temporary_host(f"sqlite:///{tmp_path}/host.db") as url:
        people = {
            name: Profile.create(
                tmp_path / name, "passphrase", host_url=url, name=name, kdf_limits=FAST
            )
            for name in ("oman", "us", "iran")
        }
        try:
            oman = people["oman"]
            oman.create_talks("t", party="oman", member="envoy", mediator=True)
            for party, member in (("us", "mcgurk"), ("iran", "bagheri")):
                invite = Invite.decode(oman.invite("t", party).encode())
                people[party].join(invite, member=member, level=Level.PROPOSE)
            settle(people.values())
            for party in ("us", "iran"):
                room = f"{party}-caucus"
                oman.act(
                    oman.talks["t"], ev.CreateRoom, room=room, kind=RoomKind.CAUCUS, party=party
                )
                oman.act(oman.talks["t"], ev.Join, room=room, member="envoy")
            for party, member in (("us", "mcgurk"), ("iran", "bagheri")):
                person = people[party]
                person.sync()
                person.act(person.talks["t"], ev.Join, room=f"{party}-caucus", member=member)
            for person in people.values():
                person.sync()
            for name, person in people.items():
                verified = bundle.verify(bundle.export(person.talks["t"]))
                opened = {(a.event.action.value, a.event.actor) for a in verified.acts}
                assert {("add_party", "oman"), ("grant", "oman")} <= opened, name
                assert person.talks["t"].witness.alarms == [], name
        finally:
            for person in people.values():
                person.close()
