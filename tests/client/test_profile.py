"""Profiles on disk and the trust rules of invites and introductions, against a real host."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import nacl.pwhash
import pytest

from backchannel.client.admission import Admission, Purpose
from backchannel.client.directory import Introduction
from backchannel.client.files import STATE
from backchannel.client.host import TOP_UP_TARGET
from backchannel.client.invites import Invite
from backchannel.client.joining import Declaration
from backchannel.client.profile import Profile
from backchannel.client.simulation import temporary_host
from backchannel.client.sync import SyncLoop
from backchannel.client.wire import EventItem, Outgoing
from backchannel.engine import events as ev
from backchannel.engine.names import NO_NAMES, Names
from backchannel.engine.rules import Label, Level, RelayMode, RoomKind
from backchannel.errors import (
    InviteMalformed,
    KeystoreLocked,
    ProfileBusy,
    ProfileExists,
)
from tests.client.people import join

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
PASSPHRASE = "a passphrase for tests"


_OPEN: list[Profile] = []


@pytest.fixture
def host(tmp_path: Path) -> Iterator[str]:
    with temporary_host(f"sqlite:///{tmp_path}/host.db") as url:
        yield url
        while _OPEN:
            _OPEN.pop().close()


def make(tmp_path: Path, host: str, name: str) -> Profile:
    profile = Profile.create(tmp_path / name, PASSPHRASE, host_url=host, name=name, kdf_limits=FAST)
    _OPEN.append(profile)
    return profile


def reopen(path: Path) -> Profile:
    profile = Profile.open(path, PASSPHRASE)
    _OPEN.append(profile)
    return profile


def convene(tmp_path: Path, host: str) -> Profile:
    oman = make(tmp_path, host, "oman")
    oman.create_talks("t", party="oman", member="envoy", mediator=True)
    return oman


def test_a_reopened_profile_has_its_talks_history_and_sessions(tmp_path: Path, host: str) -> None:
    """Close and reopen both sides: the view is rebuilt and the Olm sessions still work."""
    oman = convene(tmp_path, host)
    us = make(tmp_path, host, "us")
    join(oman, us, "us", "mcgurk")
    oman.act(oman.talks["t"], ev.CreateRoom, room="c", kind=RoomKind.CAUCUS, party="us")
    oman.act(oman.talks["t"], ev.Join, room="c", member="envoy")
    us.sync()
    us.act(us.talks["t"], ev.Join, room="c", member="mcgurk")
    for profile in (oman, us):
        profile.close()
    oman, us = (
        Profile.open(tmp_path / "oman", PASSPHRASE),
        Profile.open(tmp_path / "us", PASSPHRASE),
    )
    oman.sync()
    oman.act(oman.talks["t"], ev.Send, message="m", room="c", text="hi", label=Label.CARRY_GIST)
    us.sync()
    assert us.talks["t"].view.messages["m"].text == "hi"
    assert us.talks["t"].dropped == [] and oman.talks["t"].dropped == []
    oman.close()
    us.close()


def test_an_invite_secret_that_was_not_issued_is_rejected(tmp_path: Path, host: str) -> None:
    """A device holding a host invite code but not the convener's secret is not introduced."""
    oman = convene(tmp_path, host)
    forged = dataclasses.replace(Invite.decode(oman.invite("t", "us").encode()), secret=b"0" * 16)
    us = make(tmp_path, host, "us")
    us.join(forged, member="mcgurk")
    oman.sync()
    talks = oman.talks["t"]
    assert "us" not in talks.view.parties
    assert {d.code for d in talks.dropped} == {"directory.rejected"}
    assert len(talks.directory.peers) == 0


def test_an_invite_admits_only_its_party(tmp_path: Path, host: str) -> None:
    """An invite for the US, its party field edited to Iran: the convener refuses the newcomer."""
    oman = convene(tmp_path, host)
    edited = dataclasses.replace(
        Invite.decode(oman.invite("t", "us").encode()), admission=Admission(Purpose.PARTY, "iran")
    )
    iran = make(tmp_path, host, "iran")
    iran.join(edited, member="bagheri")
    oman.sync()
    talks = oman.talks["t"]
    assert "iran" not in talks.view.parties
    assert any("admits us" in d.message for d in talks.dropped)


def test_an_invite_naming_other_convener_keys_is_refused(tmp_path: Path, host: str) -> None:
    """An invite whose convener introduction was altered does not verify: nothing is joined."""
    oman = convene(tmp_path, host)
    invite = Invite.decode(oman.invite("t", "us").encode())
    mallory = make(tmp_path, host, "mallory")
    other = Introduction.make(
        mallory.identity,
        mallory.device.certify(mallory.identity),
        invite.talks_host_id,
        "oman",
        "envoy",
        root=True,
        tag_key=mallory.tag_key.public,
    )
    swapped = dataclasses.replace(
        invite, sponsor=dataclasses.replace(invite.sponsor, signature=other.signature)
    )
    us = make(tmp_path, host, "us")
    with pytest.raises(InviteMalformed):
        us.join(Invite.decode(swapped.encode()), member="mcgurk")
    assert us.talks == {}


def test_an_invite_whose_convener_the_host_serves_otherwise_is_refused(
    tmp_path: Path, host: str
) -> None:
    """The invite names Oman's device id with Mallory's keys (a host in the middle would): the
    host serves Oman's real keys for that id, so the joiner refuses before sending anything."""
    oman = convene(tmp_path, host)
    invite = Invite.decode(oman.invite("t", "us").encode())
    mallory = make(tmp_path, host, "mallory")
    # Mallory signs an introduction claiming Oman's device id with its own keys.
    cert = dataclasses.replace(
        mallory.device.certify(mallory.identity), device_id=oman.device.device_id
    )
    claimed = dataclasses.replace(cert, signature=mallory.identity.sign(cert.message()))
    fake = Introduction.make(
        mallory.identity,
        claimed,
        invite.talks_host_id,
        "oman",
        "envoy",
        root=True,
        tag_key=mallory.tag_key.public,
    )
    us = make(tmp_path, host, "us")
    with pytest.raises(InviteMalformed):
        us.join(dataclasses.replace(invite, sponsor=fake), member="mcgurk")
    # Refused before the code was accepted: the host admitted the joiner nowhere, and the
    # genuine invite still works.
    us.join(invite, member="mcgurk")
    assert "t" in us.talks


def test_one_time_keys_are_made_good_after_sessions_start(tmp_path: Path, host: str) -> None:
    """The US claims one of Oman's one-time keys to write to it; at Oman's next sync the keys
    on the host are back to the target, with a fallback key for when they run out."""
    oman = convene(tmp_path, host)
    assert oman.host.key_status() == (TOP_UP_TARGET, True)
    us = make(tmp_path, host, "us")
    join(oman, us, "us", "mcgurk")
    assert oman.host.key_status() == (TOP_UP_TARGET, True)
    assert us.host.key_status() == (TOP_UP_TARGET, True)


def test_a_stranger_writing_to_a_member_is_dropped(tmp_path: Path, host: str) -> None:
    """A device admitted at the host but never introduced sends to a member: dropped, unread."""
    oman = convene(tmp_path, host)
    us = make(tmp_path, host, "us")
    join(oman, us, "us", "mcgurk")
    stranger = make(tmp_path, host, "stranger")
    stranger.host.accept(oman.host.invite(oman.talks["t"].talks_host_id))
    stranger.create_talks("x", party="us", member="mcgurk")
    talks = stranger.talks["x"]
    talks.talks_host_id = oman.talks["t"].talks_host_id
    talks.directory.peers[us.device.device_id] = oman.talks["t"].directory.find("us")
    item = EventItem(event={"action": "send"})
    stranger.driver.send(talks, Outgoing({us.device.device_id: [item]}))
    us.sync()
    assert [d.code for d in us.talks["t"].dropped] == ["directory.rejected"]


def test_a_profile_opens_in_one_process_at_a_time(tmp_path: Path, host: str) -> None:
    """A second open while the first holds the profile: profile.busy; after close it opens."""
    first = make(tmp_path, host, "p")
    with pytest.raises(ProfileBusy):
        Profile.open(tmp_path / "p", PASSPHRASE)
    first.close()
    reopen(tmp_path / "p")


def test_an_existing_profile_is_never_overwritten(tmp_path: Path, host: str) -> None:
    make(tmp_path, host, "p").close()
    with pytest.raises(ProfileExists):
        make(tmp_path, host, "p")


def test_an_altered_state_file_does_not_open(tmp_path: Path, host: str) -> None:
    """One flipped byte in the encrypted state: keystore.bad_passphrase, nothing loaded."""
    make(tmp_path, host, "p").close()
    state = tmp_path / "p" / STATE
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 1
    state.write_bytes(bytes(data))
    with pytest.raises(KeystoreLocked):
        Profile.open(tmp_path / "p", PASSPHRASE)


def test_the_sync_loop_delivers_events_as_they_arrive(tmp_path: Path, host: str) -> None:
    """A background loop long-polls; a message sent later reaches its callback decrypted."""
    oman = convene(tmp_path, host)
    us = make(tmp_path, host, "us")
    join(oman, us, "us", "mcgurk")
    oman.act(oman.talks["t"], ev.CreateRoom, room="c", kind=RoomKind.CAUCUS, party="us")
    oman.act(oman.talks["t"], ev.Join, room="c", member="envoy")
    us.sync()
    us.act(us.talks["t"], ev.Join, room="c", member="mcgurk")
    oman.sync()
    arrived: list[dict[str, list[ev.Event]]] = []

    async def watch() -> None:
        came = anyio.Event()

        def on_events(batch: dict[str, list[ev.Event]]) -> None:
            arrived.append(batch)
            came.set()

        loop = SyncLoop(us, on_events, poll_seconds=2)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(loop.run)
            await anyio.to_thread.run_sync(
                lambda: oman.act(
                    oman.talks["t"],
                    ev.Send,
                    message="m",
                    room="c",
                    text="live",
                    label=Label.CARRY_GIST,
                )
            )
            with anyio.fail_after(30):
                await came.wait()
            tasks.cancel_scope.cancel()

    anyio.run(watch)
    batch = arrived[0]
    (event,) = batch["t"]
    assert isinstance(event, ev.Send) and event.text == "live"


def test_a_gist_relay_decrypts_to_the_gist_only(tmp_path: Path, host: str) -> None:
    """Everything the US device decrypts — every payload of every ciphertext it was sent —
    holds the mediator's gist and never a word of the carried message or of the aside."""
    oman = convene(tmp_path, host)
    us, iran = make(tmp_path, host, "us"), make(tmp_path, host, "iran")
    join(oman, us, "us", "mcgurk")
    join(oman, iran, "iran", "bagheri", others=[us])
    for party in ("us", "iran"):
        oman.act(
            oman.talks["t"], ev.CreateRoom, room=f"{party}-c", kind=RoomKind.CAUCUS, party=party
        )
        oman.act(oman.talks["t"], ev.Join, room=f"{party}-c", member="envoy")
    us.sync()
    iran.sync()
    us.act(us.talks["t"], ev.Join, room="us-c", member="mcgurk")
    iran.act(iran.talks["t"], ev.Join, room="iran-c", member="bagheri")
    source, aside = "ceasefire in Gaza first, everything else after", "we do not control them"
    for mid, text, label in (
        ("src", source, Label.CARRY_GIST),
        ("aside", aside, Label.MEDIATOR_ONLY),
    ):
        iran.act(iran.talks["t"], ev.Send, message=mid, room="iran-c", text=text, label=label)
    oman.sync()
    gist = "Iran puts a Gaza ceasefire first"
    oman.act(
        oman.talks["t"],
        ev.Relay,
        message="g",
        source="src",
        room="us-c",
        mode=RelayMode.GIST,
        text=gist,
    )
    plaintexts: list[bytes] = []
    opened = us.sessions.open

    def observe(*args: Any) -> bytes:
        plaintext = opened(*args)
        plaintexts.append(plaintext)
        return plaintext

    us.sessions.open = observe  # type: ignore[method-assign]
    us.sync()
    assert any(gist.encode() in p for p in plaintexts)
    for plaintext in plaintexts:
        assert source.encode() not in plaintext and aside.encode() not in plaintext
        assert b'"src"' not in plaintext and b'"aside"' not in plaintext
    assert us.talks["t"].view.messages["g"].source is None


def test_names_travel_with_the_invite_and_the_declarations(tmp_path: Path, host: str) -> None:
    """The convener's title in other languages reaches the invited device in the invite (and
    survives a reopen); each side's party and member names, in each language, reach everyone's
    view through the declarations; an invite without title_names still decodes."""
    oman = make(tmp_path, host, "oman")
    title_ar = Names.of({"ar": "محادثات مسقط", "fa": "مذاکرات مسقط"})
    oman.create_talks(
        "t",
        party="oman",
        member="envoy",
        mediator=True,
        title="Muscat talks",
        title_names=title_ar,
        party_name="Sultanate of Oman",
        party_names=Names.of({"ar": "سلطنة عُمان"}),
    )
    invite = Invite.decode(oman.invite("t", "iran").encode())
    assert invite.title_names == title_ar
    older = {k: v for k, v in invite.to_json().items() if k != "title_names"}
    assert Invite.from_json(older).title_names == NO_NAMES
    iran = make(tmp_path, host, "iran")
    iran.join(
        invite,
        member="bagheri",
        party_name="Iran",
        party_names=Names.of({"ar": "إيران", "fa": "ایران"}),
        member_name="Ali Bagheri Kani",
        member_names=Names.of({"fa": "علی باقری کنی"}),
    )
    for _ in range(3):
        oman.sync()
        iran.sync()
    for profile in (oman, iran):
        view = profile.talks["t"].view
        assert view.parties["oman"].names.in_lang("ar", "") == "سلطنة عُمان"
        assert view.parties["iran"].names.in_lang("fa", "") == "ایران"
        assert view.members["bagheri"].name == "Ali Bagheri Kani"
        assert view.members["bagheri"].names.in_lang("fa", "") == "علی باقری کنی"
    iran.close()
    assert reopen(tmp_path / "iran").title_names["t"] == title_ar


def test_a_declaration_saved_before_names_still_reads() -> None:
    """A profile written before names stores five fields per declaration: it reads, unnamed."""
    old = Declaration.from_json(["iran", "bagheri", "propose", False, "Iran"])
    assert old == Declaration("iran", "bagheri", Level.PROPOSE, False, "Iran")
    assert Declaration.from_json(old.to_json()) == old
