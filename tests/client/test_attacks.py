"""The device core against the attacks the device-core issue reproduced, through a real host.

Oman mediates; the US (McGurk, ``sign``) and Iran (Bagheri, ``sign``) joined by invite; all three
are in a plenary. Each attack is made by a real process part: a modified device
(:func:`~tests.client.malicious.forge`: signed and recorded like an honest act, past its own
engine), a participant replaying what it holds, or a host that withholds deliveries
(:class:`~tests.client.malicious.MaliciousHost`). Each test names the code every honest device
now answers with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from backchannel.client import bundle
from backchannel.client.profile import Profile
from backchannel.client.wire import Cosigned, Outgoing
from backchannel.crypto import words_digest
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, Level, RoomKind
from backchannel.errors import BundleInvalid
from backchannel.record.leaf import commit
from backchannel.server import HostConfig, Limits, create_app
from backchannel.server.local import serve_app
from tests.client.malicious import MaliciousHost, forge_as
from tests.client.people import join, make, settle

ARTICLE = "The parties keep this channel open between their envoys while the talks last."


class Talks:
    """The three profiles on one (possibly malicious) host, in talks ``alias``."""

    def __init__(self, root: Path, url: str, alias: str = "t") -> None:
        self.alias = alias
        self.oman, self.us, self.iran = (make(root, n, url) for n in ("oman", "us", "iran"))
        self.oman.create_talks(alias, party="oman", member="envoy", mediator=True)
        join(self.oman, self.us, "us", "mcgurk", alias=alias)
        join(self.oman, self.iran, "iran", "bagheri", others=[self.us], alias=alias)
        self.act(self.oman, ev.CreateRoom, room="plenary", kind=RoomKind.PLENARY)
        settle(self.people)
        for person, member in ((self.oman, "envoy"), (self.us, "mcgurk"), (self.iran, "bagheri")):
            self.act(person, ev.Join, room="plenary", member=member)
            settle(self.people)

    @property
    def people(self) -> list[Profile]:
        return [self.oman, self.us, self.iran]

    def act(self, person: Profile, kind: type[ev.Event], /, **fields: object) -> None:
        person.act(person.talks[self.alias], kind, **fields)

    def codes(self, person: Profile, since: int = 0) -> list[str]:
        return [d.code for d in person.talks[self.alias].dropped[since:]]

    def alarms(self, person: Profile) -> set[str]:
        return {a.code for a in person.talks[self.alias].witness.alarms}

    def close(self) -> None:
        for person in self.people:
            person.close()


@pytest.fixture
def host(tmp_path: Path) -> Iterator[MaliciousHost]:
    db = f"sqlite:///{tmp_path}/host.db"
    key = SigningKey.generate()
    config = HostConfig(db_url=db, limits=Limits(rate_per_s=0), log_key=key)
    yield MaliciousHost(create_app(config), db, key, config.host_name)


@pytest.fixture
def talks(tmp_path: Path, host: MaliciousHost) -> Iterator[Talks]:
    with serve_app(host) as url:
        found = Talks(tmp_path / "a", url)
        try:
            yield found
        finally:
            found.close()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def dropped_everywhere(talks: Talks, sender: Profile, marks: dict[str, int]) -> set[str]:
    """Every device but the sender syncs; the codes it dropped since ``marks``."""
    codes: set[str] = set()
    for person in talks.people:
        if person is not sender:
            person.sync()
            codes |= set(talks.codes(person, marks[person.name]))
    return codes


def marks(talks: Talks) -> dict[str, int]:
    return {p.name: len(p.talks[talks.alias].dropped) for p in talks.people}


# --- the record is the clock ------------------------------------------------------------------


def test_an_act_backdated_past_a_revocation_is_refused_by_every_device(talks: Talks) -> None:
    """The US root revokes McGurk; McGurk's modified device then signs an offer claiming a time
    before the revocation (30 minutes: out_of_order; 2 minutes, within the clock's tolerance:
    mandate.revoked, since the revocation comes first in the record). No device applies it, and
    the US shows as signed nowhere."""
    us = talks.us
    talks.act(
        talks.iran,
        ev.Propose,
        message="offer",
        room="plenary",
        text="X",
        label=Label.CARRY_VERBATIM,
    )
    settle(talks.people)
    talks.act(us, ev.Revoke, actor="us", member="mcgurk")
    settle(talks.people)
    for back, code in (
        (timedelta(minutes=30), "event.out_of_order"),
        (timedelta(minutes=2), "mandate.revoked"),
    ):
        before = marks(talks)
        sign = ev.Sign(
            at=now() - back, actor="mcgurk", device=us.device.device_id, proposal="offer"
        )
        forge_as(us, sign)
        assert dropped_everywhere(talks, us, before) == {code}
    for person in talks.people:
        assert person.talks["t"].view.consents == ()


def test_a_revoked_principals_backdated_grant_is_refused(talks: Talks) -> None:
    """The US root revokes McGurk and his device; his device, still holding its keys, issues a
    grant dated a minute before both revocations: every device refuses it (device.revoked: the
    device's revocation is earlier in the record, whatever the grant claims)."""
    us = talks.us
    talks.act(us, ev.Revoke, actor="us", member="mcgurk")
    talks.act(us, ev.RevokeDevice, actor="us", target=us.device.device_id)
    settle(talks.people)
    before = marks(talks)
    grant = ev.Grant(
        at=now() - timedelta(minutes=1),
        actor="mcgurk",
        device=us.device.device_id,
        grant="g-backdated",
        member="mcgurk",
        level=Level.SIGN,
    )
    forge_as(us, grant, mandate="unused")
    codes = dropped_everywhere(talks, us, before)
    assert codes == {"device.revoked"}
    for person in (talks.oman, talks.iran):
        assert "g-backdated" not in person.talks["t"].view.grants


# --- every signed act says where and to what ----------------------------------------------------


def test_a_consent_signed_for_other_words_is_refused(talks: Talks) -> None:
    """Iran's modified device agrees article a1 version 1, signing the digest of other words:
    every device refuses it (consent.words_differ), and Iran's stage stays empty."""
    talks.act(talks.oman, ev.DraftArticle, article="a1", text=ARTICLE)
    settle(talks.people)
    before = marks(talks)
    agree = ev.AgreeArticle(
        at=now(), actor="bagheri", device=talks.iran.device.device_id, article="a1", version=1
    )
    forge_as(talks.iran, agree, words=words_digest(ARTICLE + " And a truce."))
    assert dropped_everywhere(talks, talks.iran, before) == {"consent.words_differ"}
    for person in talks.people:
        article = person.talks["t"].view.articles["a1"]
        assert article.consents == ()


def test_a_consent_replayed_into_other_talks_is_refused_and_fails_verification(
    talks: Talks, tmp_path: Path, host: MaliciousHost
) -> None:
    """Oman mediates talks T1 and T2 with the same US profile. The US agrees article a1 v1 of T1.
    Oman's modified device forwards that signed consent into T2, where a1 says something else,
    and records it there: the US and Iran devices refuse it (crypto.bad_signature: it is signed
    for T1), and T2's bundle with the entry does not verify."""
    oman, us, iran = talks.oman, talks.us, talks.iran
    oman.create_talks("t2", party="oman", member="envoy", mediator=True)
    join(oman, us, "us", "mcgurk", alias="t2")
    join(oman, iran, "iran", "bagheri", others=[us], alias="t2")
    for alias, words in (("t", ARTICLE), ("t2", "The parties end the channel today.")):
        oman.act(oman.talks[alias], ev.DraftArticle, article="a1", text=words)
    settle(talks.people)
    us.act(us.talks["t"], ev.AgreeArticle, article="a1", version=1)
    settle(talks.people)
    honest = next(i for i in oman.talks["t"].items() if i.event.get("action") == "agree_article")
    t2 = oman.talks["t2"]
    before = {p.name: len(p.talks["t2"].dropped) for p in talks.people}
    replayed = replace(honest, forwarded=True, salt=b"\x07" * 32)
    commitment = commit(b"\x07" * 32, honest.event)
    devices = [p.host_device for p in t2.directory.live()]
    oman.driver.send(t2, Outgoing({d: [replayed] for d in devices}, commitment, commitment))
    for person in (us, iran):
        person.sync()
        assert [d.code for d in person.talks["t2"].dropped[before[person.name] :]] == [
            "crypto.bad_signature"
        ]
        assert person.talks["t2"].view.articles["a1"].consents == ()
    oman.sync()
    data = bundle.export(oman.talks["t2"])
    index = oman.talks["t2"].ledger.index_of(commitment)
    assert index is not None
    data["events"].append(
        {
            "index": index,
            "salt": bundle.b64(b"\x07" * 32),
            "event": dict(honest.event),
            "signature": bundle.b64(honest.signature or b""),
            "words": bundle.b64(honest.words or b""),
            "mandate": None,
            "proof": [bundle.b64(h) for h in oman.talks["t2"].witness.inclusion(index).path],
        }
    )
    with pytest.raises(BundleInvalid, match=rf"entry {index}.*bad_signature"):
        bundle.verify(data)


# --- withholding and divergence -----------------------------------------------------------------


def last_seq(person: Profile) -> int:
    talks_id = person.talks["t"].talks_host_id
    return int(person.host._call("GET", f"/v1/talks/{talks_id}")["last_seq"])


def test_a_withheld_delivery_is_detected_by_its_recipient(
    talks: Talks, host: MaliciousHost
) -> None:
    """The host withholds from Iran one plenary message of the US (the other recipient gets it):
    at its next sync Iran raises record.withheld naming the entry; Oman raises nothing."""
    iran = talks.iran
    iran.host.login()
    host.targets = {str(iran.host._token)}
    host.withheld = {last_seq(talks.us) + 1}
    talks.act(talks.us, ev.Send, message="m", room="plenary", text="hello", label=Label.CARRY_GIST)
    settle(talks.people, rounds=1)
    assert "m" in talks.oman.talks["t"].view.messages
    assert "m" not in iran.talks["t"].view.messages
    assert talks.alarms(iran) == {"record.withheld"}
    assert talks.alarms(talks.oman) == set() and talks.alarms(talks.us) == set()


def test_a_state_digest_that_differs_raises_an_alarm(talks: Talks) -> None:
    """Iran's modified device posts its cosigned checkpoint with another talks-wide state's
    digest: Oman and the US raise state.diverged; an honest post raises nothing."""
    for person in talks.people:
        assert person.driver.post_checkpoint(person.talks["t"])
    settle(talks.people)
    assert all(talks.alarms(p) == set() for p in talks.people)
    participant = talks.iran.talks["t"]
    item = participant.checkpoint_item(int(now().timestamp()))
    assert item is not None and item.digest is not None
    lying = Cosigned(item.note, bytes(32))
    devices = [p.host_device for p in participant.directory.live()]
    talks.iran.driver.send(participant, Outgoing({d: [lying] for d in devices}))
    for person in (talks.oman, talks.us):
        person.sync()
        assert talks.alarms(person) == {"state.diverged"}


# --- revocation ---------------------------------------------------------------------------------


def test_a_revoked_device_is_addressed_by_nothing_new(talks: Talks, tmp_path: Path) -> None:
    """The US revokes its device in the talks and at the host: it leaves every directory's live
    devices, talks-wide acts after it still go through (no 403), and nothing new reaches it."""
    us = talks.us
    revoked = us.revoke_device("t", us.device.device_id)
    assert revoked == us.device.device_id
    settle([talks.oman, talks.iran])
    for person in (talks.oman, talks.iran):
        participant = person.talks["t"]
        assert revoked in participant.directory.revoked
        assert revoked not in {p.host_device for p in participant.directory.live()}
    talks.act(talks.oman, ev.DraftArticle, article="a1", text=ARTICLE)
    talks.act(
        talks.iran, ev.Send, message="after", room="plenary", text="x", label=Label.CARRY_GIST
    )
    settle([talks.oman, talks.iran])
    assert "a1" in talks.iran.talks["t"].view.articles
    assert talks.codes(talks.oman) == [] and talks.codes(talks.iran) == []
