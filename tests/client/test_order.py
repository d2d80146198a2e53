"""The record is the order: acts that cross in flight end the same on every device, and nothing
an honest device sent is lost when the host refuses a send, is away, or restarts.

Three real profiles on one real host: Oman mediates, the US (McGurk) and Iran (Bagheri) both hold
``sign``, and article a1 is drafted. A device checks its act against what it holds, sends it, and
applies it where the record places it, as every other device does: an act the record puts after
one that changes what it may do is refused there, on its own device too (``Profile.act`` raises).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, Level, RoomKind
from backchannel.errors import BackchannelError, HostUnreachable, RuleViolation
from backchannel.replay import text_json
from backchannel.server import HostConfig, Limits
from backchannel.server.local import serve_locally
from tests.client.people import PASSPHRASE, join, make, settle

CLEAN = "The parties keep this channel open between their envoys while the talks last."
AMENDED = CLEAN.replace("while the talks last", "for as long as the talks last, and a month after")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


LOG_KEY = SigningKey.generate()


def host(db: str, port: int) -> AbstractContextManager[str]:
    """A host on ``db`` at ``port``, signing with the same log key across restarts (as a host
    whose key is on disk does)."""
    return serve_locally(HostConfig(db_url=db, limits=Limits(rate_per_s=0), log_key=LOG_KEY), port)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def people(tmp_path: Path, port: int) -> Iterator[dict[str, Profile]]:
    """The three profiles, synced, with article a1 drafted; the host serves on ``port``."""
    with host(f"sqlite:///{tmp_path}/host.db", port) as url:
        people = {name: make(tmp_path, name, url) for name in ("oman", "us", "iran")}
        try:
            oman = people["oman"]
            oman.create_talks("t", party="oman", member="envoy", mediator=True)
            join(oman, people["us"], "us", "mcgurk", level=Level.SIGN)
            join(oman, people["iran"], "iran", "bagheri", level=Level.SIGN, others=[people["us"]])
            oman.act(oman.talks["t"], ev.DraftArticle, article="a1", text=CLEAN)
            settle(people.values())
            yield people
        finally:
            for profile in people.values():
                profile.close()


def consent(profile: Profile, kind: type[ev.ArticleConsent], version: int = 1) -> None:
    profile.act(profile.talks["t"], kind, article="a1", version=version)


def texts(people: dict[str, Profile]) -> dict[str, list[dict[str, object]]]:
    return {name: text_json(p.talks["t"].view) for name, p in people.items()}


def own_drops(profile: Profile) -> list[str]:
    talks = profile.talks["t"]
    return [d.code for d in talks.dropped if d.sender_device == profile.device.device_id]


def test_a_consent_crossing_a_new_version_is_refused_everywhere(
    people: dict[str, Profile], tmp_path: Path
) -> None:
    """The mediator drafts version 2; the US, not yet synced, agrees version 1. The record has
    the draft first: the US act is refused where the record put it (text.stale, raised to the
    US), every device ends with version 2 and no consent, and so does the US's reopened."""
    oman, us = people["oman"], people["us"]
    oman.act(oman.talks["t"], ev.DraftArticle, article="a1", text=AMENDED)
    with pytest.raises(RuleViolation, match=r"text\.stale"):
        consent(us, ev.AgreeArticle)  # checked on the US view, where version 1 is current
    settle(people.values())
    seen = texts(people)
    assert seen["us"] == seen["oman"] == seen["iran"]
    assert seen["us"][0]["version"] == 2 and seen["us"][0]["parties"] == {"iran": None, "us": None}
    assert own_drops(us) == ["text.stale"] and us.talks["t"].pending == []
    us.close()
    people["us"] = Profile.open(tmp_path / "us", PASSPHRASE)
    assert text_json(people["us"].talks["t"].view) == seen["oman"]


def test_a_new_version_crossing_the_last_signature_is_refused_everywhere(
    people: dict[str, Profile],
) -> None:
    """Both parties agree and initial; the US signs; Iran signs while the mediator, not yet
    synced, drafts a new version. The record has Iran's signature first: every device ends with
    version 1 signed, and the mediator's draft refused (text.final)."""
    oman, us, iran = people["oman"], people["us"], people["iran"]
    for kind in (ev.AgreeArticle, ev.InitialArticle):
        for profile in (us, iran):
            consent(profile, kind)
            settle(people.values(), rounds=1)
    consent(us, ev.SignArticle)
    settle(people.values(), rounds=1)
    consent(iran, ev.SignArticle)
    with pytest.raises(RuleViolation, match=r"text\.final"):
        oman.act(oman.talks["t"], ev.DraftArticle, article="a1", text=AMENDED)
    settle(people.values())
    seen = texts(people)
    assert seen["oman"] == seen["us"] == seen["iran"]
    assert (seen["oman"][0]["version"], seen["oman"][0]["status"]) == (1, "signed")
    assert own_drops(oman) == ["text.final"]


def test_acts_that_do_not_conflict_stand_on_every_device(people: dict[str, Profile]) -> None:
    """Both parties agree version 1, neither having synced the other's: both stand everywhere,
    and the talks-wide state is the same on every device (and was compared)."""
    consent(people["us"], ev.AgreeArticle)
    consent(people["iran"], ev.AgreeArticle)
    settle(people.values())
    seen = texts(people)
    assert seen["oman"] == seen["us"] == seen["iran"]
    assert seen["oman"][0]["status"] == "agreed-ad-ref"
    digests = {p.talks["t"].ledger.digest_at(p.talks["t"].ledger.upto) for p in people.values()}
    assert len(digests) == 1
    for profile in people.values():
        assert not profile.talks["t"].dropped and profile.talks["t"].witness.alarms == []


def test_a_send_the_host_refuses_leaves_nothing(people: dict[str, Profile]) -> None:
    """The host refuses a send (its ciphertext is over the host's size limit): the act is not in
    the sender's view, not pending, not kept to send again, and its witness raises nothing."""
    oman, us = people["oman"], people["us"]
    oman.act(oman.talks["t"], ev.CreateRoom, room="c", kind=RoomKind.CAUCUS, party="us")
    oman.act(oman.talks["t"], ev.Join, room="c", member="envoy")
    settle(people.values(), rounds=1)
    talks = us.talks["t"]
    us.act(talks, ev.Join, room="c", member="mcgurk")
    with pytest.raises(BackchannelError) as refused:
        us.act(talks, ev.Send, message="m", room="c", text="x" * 65_000, label=Label.CARRY_GIST)
    assert refused.value.code == "input.invalid"
    assert "must be at most 65536 bytes" in refused.value.message
    settle(people.values())
    assert "m" not in talks.view.messages and talks.pending == [] and talks.outbox == {}
    assert talks.witness.alarms == [] and oman.talks["t"].witness.alarms == []


def test_an_act_waits_out_a_host_that_is_away_and_restarts(tmp_path: Path, port: int) -> None:
    """The host stops: the US's act cannot be sent (client.host_unreachable), and waits in its
    outbox, across the US process ending too. The host restarts on the same database: the US's
    next sync sends it again, it is recorded once and applied at its place on both devices, and
    no alarm is raised."""
    db = f"sqlite:///{tmp_path}/host.db"
    with host(db, port) as url:
        oman, us = make(tmp_path, "oman", url), make(tmp_path, "us", url)
        oman.create_talks("t", party="oman", member="envoy", mediator=True)
        join(oman, us, "us", "mcgurk")
        oman.act(oman.talks["t"], ev.CreateRoom, room="p", kind=RoomKind.PLENARY)
        settle([oman, us])
        for person, member in ((oman, "envoy"), (us, "mcgurk")):
            person.act(person.talks["t"], ev.Join, room="p", member=member)
            settle([oman, us])
    with pytest.raises(HostUnreachable):
        us.act(us.talks["t"], ev.Send, message="m", room="p", text="hi", label=Label.CARRY_GIST)
    assert len(us.talks["t"].outbox) == 1 and [e.action.value for e in us.talks["t"].pending] == [
        "send"
    ]
    us.close()
    with host(db, port):
        us = Profile.open(tmp_path / "us", PASSPHRASE)
        try:
            settle([us, oman])
            for person in (us, oman):
                talks = person.talks["t"]
                assert talks.view.messages["m"].text == "hi"
                assert talks.outbox == {} and talks.witness.alarms == [] and not talks.dropped
            entries = us.host.log_entries(us.talks["t"].talks_host_id, 0)
            assert len({e[:32] for e in entries}) == len(entries)  # recorded once
        finally:
            us.close()
            oman.close()
