"""Members and devices added after the talks began, and a device revoked, by the real CLI.

Oman convenes and the US joins. The US root adds a member (Witkoff) by invite, then links a
second device of McGurk's, then revokes McGurk's first device: each device of the talks ends up
knowing who is who, the new ones take part, and the revoked one is addressed by nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backchannel.client.simulation import temporary_host
from tests.cli.test_rooms import Person


@pytest.fixture
def people(tmp_path: Path) -> Iterator[dict[str, Person]]:
    with temporary_host(f"sqlite:///{tmp_path}/host.db") as url:
        people = {n: Person(tmp_path / n) for n in ("oman", "us", "witkoff", "laptop")}
        for name in ("oman", "us", "witkoff"):
            people[name]("profile", "create", "--host", url, "--name", name, "--kdf", "interactive")
        oman, us = people["oman"], people["us"]
        oman("talks", "create", "t", "--party", "oman", "--member", "envoy", "--mediator")
        code = oman("talks", "invite", "t", "--party", "us")["invite"]
        us("talks", "join", code, "--member", "mcgurk", "--level", "sign")
        settle(oman, us)
        yield people


def settle(*people: Person) -> None:
    """Each person's device syncs (every command opens the profile, syncs, and answers)."""
    for _ in range(3):
        for person in people:
            person("talks", "list")


def members(person: Person) -> list[str]:
    (talks,) = person("talks", "list")["talks"]
    return list(talks["members"])


def test_a_root_adds_a_member_by_invite(people: dict[str, Person]) -> None:
    """The US root invites Witkoff with 'speak'; he joins; after a sync every device lists him,
    with the US root's grant, and he can speak in a room he joins."""
    oman, us, witkoff = people["oman"], people["us"], people["witkoff"]
    issued = us("member", "add", "t", "witkoff", "--level", "speak", "--name", "Steve Witkoff")
    assert issued["level"] == "speak"
    joined = witkoff("talks", "join", issued["invite"])
    assert joined["sponsor_fingerprint"] == issued["fingerprint"]
    settle(us, witkoff, oman)
    for person in (oman, us, witkoff):
        assert members(person) == ["envoy", "mcgurk", "witkoff"]
    oman("room", "create", "t", "plenary", "--kind", "plenary")
    settle(oman, us, witkoff)
    witkoff("room", "join", "t", "plenary")  # oman created it, and is in it
    sent = witkoff("send", "t", "plenary", "We are listening.", "--label", "carry-gist")
    settle(oman, witkoff)
    read = oman("read", "t")
    assert [m["text"] for m in read["messages"] if m["id"] == sent["message"]] == [
        "We are listening."
    ]


def test_a_second_device_joins_by_link_and_the_first_is_revoked(
    people: dict[str, Person], tmp_path: Path
) -> None:
    """McGurk links a laptop (same identity); it joins and reads what follows; McGurk revokes
    his first device from the laptop: every device lists it revoked, and a talks-wide act after
    it goes through."""
    oman, us, laptop = people["oman"], people["us"], people["laptop"]
    link = tmp_path / "link.bclink"
    us("device", "add", "t", "--out", str(link))
    assert link.stat().st_mode & 0o777 == 0o600
    created = laptop("profile", "create", "--from-link", str(link), "--kdf", "interactive")
    assert created["identity_fingerprint"] == us("profile", "show")["identity_fingerprint"]
    settle(us, laptop, oman)
    listed = oman("device", "list", "t")["devices"]
    assert sorted(d["member"] for d in listed if d["party"] == "us") == ["mcgurk", "mcgurk"]
    first = us("profile", "show")["device"]
    revoked = laptop("device", "revoke", "t", first)
    assert revoked["revoked"] == first
    settle(laptop, oman)
    rows = {d["device"]: d for d in oman("device", "list", "t")["devices"]}
    assert rows[first]["revoked"] is True
    oman("room", "create", "t", "plenary", "--kind", "plenary")  # talks-wide, not refused
    settle(laptop, oman)
    (talks,) = laptop("talks", "list")["talks"]
    assert talks["dropped"] == []
