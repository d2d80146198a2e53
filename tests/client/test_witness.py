"""Devices as witnesses against a malicious host: drop, reorder, split view, rollback.

The host is real; :class:`MaliciousHost` makes its record routes lie to the targeted device
(signing forged checkpoints with the host's own log key). Each attack must raise its own alarm on
the targeted device, while devices shown the truth stay quiet unless shown the lie.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nacl.pwhash
import pytest
from nacl.signing import SigningKey

from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, RoomKind
from backchannel.server import HostConfig, Limits, create_app
from backchannel.server.local import serve_app
from tests.client.malicious import MaliciousHost
from tests.client.people import join

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


class Talks:
    """Oman convenes; the US and Iran join; each has a caucus with Oman."""

    def __init__(self, root: Path, url: str) -> None:
        def make(name: str) -> Profile:
            return Profile.create(
                root / name, "passphrase", host_url=url, name=name, kdf_limits=FAST
            )

        self.oman, self.us, self.iran = make("oman"), make("us"), make("iran")
        self.oman.create_talks("t", party="oman", member="envoy", mediator=True)
        joined: list[Profile] = []
        for person, party, member in ((self.us, "us", "mcgurk"), (self.iran, "iran", "bagheri")):
            join(self.oman, person, party, member, others=joined)
            joined.append(person)
        for party in ("us", "iran"):
            room = f"{party}-caucus"
            self.act(self.oman, ev.CreateRoom, room=room, kind=RoomKind.CAUCUS, party=party)
            self.act(self.oman, ev.Join, room=room, member="envoy")
        self.sync_all()
        self.act(self.us, ev.Join, room="us-caucus", member="mcgurk")
        self.act(self.iran, ev.Join, room="iran-caucus", member="bagheri")
        self.sync_all()

    @staticmethod
    def act(person: Profile, kind: type[ev.Event], /, **fields: object) -> None:
        person.act(person.talks["t"], kind, **fields)

    def say(self, person: Profile, room: str, message: str) -> None:
        self.act(person, ev.Send, message=message, room=room, text=message, label=Label.CARRY_GIST)

    def sync_all(self) -> None:
        for person in (self.oman, self.us, self.iran):
            person.sync()

    def size(self) -> int:
        """The true size of the record, read through an honest route."""
        return len(self.oman.host.log_entries(self.oman.talks["t"].talks_host_id, 0))

    def alarms(self, person: Profile) -> set[str]:
        return {alarm.code for alarm in person.talks["t"].witness.alarms}

    def close(self) -> None:
        for person in (self.oman, self.us, self.iran):
            person.close()


@pytest.fixture
def attack(tmp_path: Path) -> Iterator[tuple[MaliciousHost, Talks]]:
    db = f"sqlite:///{tmp_path}/host.db"
    key = SigningKey.generate()
    config = HostConfig(db_url=db, limits=Limits(rate_per_s=0), log_key=key)
    host = MaliciousHost(create_app(config), db, key, config.host_name)
    with serve_app(host) as url:
        talks = Talks(tmp_path, url)
        try:
            yield host, talks
        finally:
            talks.close()


def post(person: Profile) -> bool:
    """``person``'s device posts its cosigned checkpoint now."""
    return person.driver.post_checkpoint(person.talks["t"])


def target(host: MaliciousHost, person: Profile) -> None:
    """Make ``person``'s device the one the host lies to."""
    person.host.login()
    token = person.host._token  # the test identifies the victim's session as the host would
    assert token is not None
    host.targets = {token}


def test_an_honest_host_raises_no_alarm(attack: tuple[MaliciousHost, Talks]) -> None:
    """The control: the same talks, every device witnessing and posting, no alarm anywhere."""
    _, talks = attack
    talks.say(talks.oman, "us-caucus", "m1")
    talks.say(talks.iran, "iran-caucus", "m2")
    for person in (talks.oman, talks.us, talks.iran):
        person.sync()
        assert post(person)
    talks.sync_all()
    talks.sync_all()
    for person in (talks.oman, talks.us, talks.iran):
        participant = person.talks["t"]
        assert participant.witness.alarms == []
        assert participant.witness.size == talks.size()
        assert participant.ledger.waiting == {} and len(participant.ledger.applied) > 0
        assert participant.compared  # it compared its state with a peer's, and they agreed


def test_a_dropped_entry_is_detected(attack: tuple[MaliciousHost, Talks]) -> None:
    """The host leaves one of the US's received events out of the record it shows the US."""
    host, talks = attack
    n = talks.size()
    host.forgery = lambda entries: entries[:n] + entries[n + 1 :]
    target(host, talks.us)
    talks.say(talks.oman, "us-caucus", "m1")
    talks.say(talks.oman, "us-caucus", "m2")
    talks.us.sync()
    assert "record.entry_missing" in talks.alarms(talks.us)
    talks.oman.sync()
    assert talks.alarms(talks.oman) == set()


def test_two_reordered_entries_are_detected(attack: tuple[MaliciousHost, Talks]) -> None:
    """The host swaps two events in the record it shows the US, who received them in order (and
    keeps the times in order, as a careful liar would)."""
    host, talks = attack
    n = talks.size()

    def swap(e: list[bytes]) -> list[bytes]:
        # Each place keeps its own time stamp, so the host's clock still runs forward.
        if len(e) <= n + 1:
            return e
        return [*e[:n], e[n + 1][:-8] + e[n][-8:], e[n][:-8] + e[n + 1][-8:], *e[n + 2 :]]

    host.forgery = swap
    target(host, talks.us)
    talks.say(talks.oman, "us-caucus", "m1")
    talks.say(talks.oman, "us-caucus", "m2")
    talks.us.sync()
    assert talks.alarms(talks.us) == {"record.reordered"}


def test_a_split_view_is_detected_by_comparing_checkpoints(
    attack: tuple[MaliciousHost, Talks],
) -> None:
    """The US is shown another entry where Iran's message is; all else verifies for each side.
    Oman's posted checkpoint contradicts the US's: both see the split view."""
    host, talks = attack
    n = talks.size()
    fake = os.urandom(32 + 16 * 4) + bytes(8)
    host.forgery = lambda e: [*e[:n], fake[:-8] + e[n][-8:], *e[n + 1 :]] if len(e) > n else e
    target(host, talks.us)
    talks.say(talks.iran, "iran-caucus", "m1")
    talks.oman.sync()
    talks.us.sync()
    assert talks.alarms(talks.oman) == set() and talks.alarms(talks.us) == set()
    assert post(talks.oman)
    talks.us.sync()
    assert talks.alarms(talks.us) == {"record.split_view"}
    assert post(talks.us)
    talks.oman.sync()
    assert talks.alarms(talks.oman) == {"record.split_view"}
    talks.iran.sync()
    assert talks.alarms(talks.iran) == {"record.split_view"}  # it got the US's checkpoint too


def test_a_rollback_is_detected(attack: tuple[MaliciousHost, Talks]) -> None:
    """After the US checked the record at n entries, the host serves it n - 2."""
    host, talks = attack
    n = talks.size()
    assert talks.us.talks["t"].witness.size == n
    host.forgery = lambda entries: entries[: n - 2]
    target(host, talks.us)
    talks.us.sync()
    assert talks.alarms(talks.us) == {"record.rollback"}


def test_alarms_survive_reopening_the_profile(
    attack: tuple[MaliciousHost, Talks], tmp_path: Path
) -> None:
    """An alarm is stored with the profile's state: closing and reopening keeps it."""
    host, talks = attack
    host.forgery = lambda entries: entries[:1]
    target(host, talks.us)
    talks.us.sync()
    talks.us.close()
    reopened = Profile.open(tmp_path / "us", "passphrase")
    try:
        assert {a.code for a in reopened.talks["t"].witness.alarms} == {"record.rollback"}
    finally:
        reopened.close()
