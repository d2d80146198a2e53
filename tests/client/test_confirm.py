"""A root's confirmation through a real host: it travels with its member's token, extended with
the root's ``confirms`` block; every reader applies it, and drops a forged one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from backchannel import authority, engine
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.crypto.signed import Identity
from backchannel.engine import events as ev
from backchannel.engine.rules import Stage
from tests.client.consent import OFFER, accepted_offer, sync


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Profile]]:
    """One set-up for the module: forged confirmations change nothing, so order does not matter."""
    with accepted_offer(tmp_path_factory.mktemp("confirm")) as found:
        yield found


def forge(us: Participant, token: str | None) -> None:
    """Send the US root's confirmation, correctly signed, with ``token`` as its mandate, to
    every other device, bypassing the US device's own engine and token."""
    last = us.view.last_at
    assert last is not None
    # A second later than anything applied: never a duplicate of the real confirmation.
    confirm = ev.Confirm(at=last + timedelta(seconds=1), actor="us", proposal=OFFER)
    item: dict[str, Any] = us._item(confirm)
    if token is not None:
        item["mandate"] = token
    us.send_items({device: [item] for device in us.directory.peers})


def test_the_root_confirms_and_every_reader_applies_it(people: dict[str, Profile]) -> None:
    """The US root confirms McGurk's acceptance: its item carries McGurk's token with the root's
    confirms(offer); Oman's and Iran's devices check and apply it; the US is at 'confirmed'."""
    us = people["us"]
    for profile in people.values():
        assert engine.stage(profile.talks["t"].view, OFFER, "us") is Stage.AGREED_AD_REF
    us.act(us.talks["t"], ev.Confirm, actor="us", proposal=OFFER)
    sync(people)
    item = us.talks["t"].applied[-1]
    token = authority.read(item["mandate"], us.identity.public_key)
    assert token.last.member == "mcgurk" and token.confirms == {OFFER}
    for profile in people.values():
        talks = profile.talks["t"]
        assert {d.code for d in talks.dropped} <= {"mandate.forged"}  # the forged ones, if run
        [done] = talks.view.confirmations
        assert (done.party, done.member, done.copy) == ("us", "mcgurk", OFFER)
        assert engine.stage(talks.view, OFFER, "us") is Stage.CONFIRMED


def _plain(us: Participant) -> str | None:
    return us.token_of("mcgurk")


def _by_stranger(us: Participant) -> str:
    token = us.token_of("mcgurk")
    assert token is not None
    return authority.confirm(token, us.identity.public_key, Identity.generate(), OFFER)


def _other_offer(us: Participant) -> str:
    token = us.token_of("mcgurk")
    assert token is not None
    return authority.confirm(token, us.identity.public_key, us.identity, "another-offer")


def _iran_token(us: Participant) -> str | None:
    return us.token_of("bagheri")


@pytest.mark.parametrize(
    "make",
    [lambda us: None, _plain, _by_stranger, _other_offer, _iran_token],
    ids=["no token", "no confirms block", "a stranger's block", "another offer", "Iran's token"],
)
def test_a_forged_confirmation_is_dropped_by_every_reader(
    people: dict[str, Profile], make: Callable[[Participant], str | None]
) -> None:
    """Without a token, with McGurk's token unconfirmed, confirmed by another key or for another
    offer, or with another party's token: Oman and Iran drop it (mandate.forged) and record
    nothing more."""
    us = people["us"].talks["t"]
    forge(us, make(us))
    for name in ("oman", "iran"):
        talks = people[name].talks["t"]
        dropped, confirmed = len(talks.dropped), talks.view.confirmations
        stage = engine.stage(talks.view, OFFER, "us")
        people[name].sync()
        assert [d.code for d in talks.dropped[dropped:]] == ["mandate.forged"]
        assert talks.view.confirmations == confirmed
        assert engine.stage(talks.view, OFFER, "us") is stage
