"""A root's confirmation through a real host: it travels with its member's token, extended with
the root's ``confirms`` block; every reader applies it, and drops a forged one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backchannel import authority, engine
from backchannel.client import mandates
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.crypto.signed import Identity
from backchannel.engine import events as ev
from backchannel.engine.rules import Stage
from tests.client.consent import OFFER, accepted_offer, sync
from tests.client.malicious import forge_as


@pytest.fixture
def people(tmp_path: Path) -> Iterator[dict[str, Profile]]:
    """McGurk's acceptance, for the root to confirm."""
    with accepted_offer(tmp_path) as found:
        yield found


@pytest.fixture(scope="module")
def unconfirmed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Profile]]:
    """One set-up for the forgeries: each changes nothing, so their order does not matter (and
    no real confirmation comes first, which would make each one a duplicate)."""
    with accepted_offer(tmp_path_factory.mktemp("confirm")) as found:
        yield found


def send_forged(us: Profile, token: str | None) -> None:
    """Send the US root's confirmation, correctly signed, with ``token`` as its mandate, to
    every other device, bypassing the US device's own engine and token."""
    confirm = ev.Confirm(at=datetime.now(UTC), actor="us", proposal=OFFER)
    forge_as(us, confirm, mandate=token)


def token_of(us: Participant, member: str) -> str | None:
    return mandates.standing_token(us.items(), us.view, member, datetime.now(UTC))


def test_the_root_confirms_and_every_reader_applies_it(people: dict[str, Profile]) -> None:
    """The US root confirms McGurk's acceptance: its item carries McGurk's token with the root's
    confirms(offer); Oman's and Iran's devices check and apply it; the US is at 'confirmed'."""
    us = people["us"]
    for profile in people.values():
        assert engine.stage(profile.talks["t"].view, OFFER, "us") is Stage.AGREED_AD_REF
    us.act(us.talks["t"], ev.Confirm, actor="us", proposal=OFFER)
    sync(people)
    item = us.talks["t"].items()[-1]
    assert item.mandate is not None
    token = authority.read(item.mandate, us.identity.public_key)
    assert token.last.member == "mcgurk" and token.confirms == {OFFER}
    for profile in people.values():
        talks = profile.talks["t"]
        assert talks.dropped == []
        [done] = talks.view.confirmations
        assert (done.party, done.member, done.copy) == ("us", "mcgurk", OFFER)
        assert engine.stage(talks.view, OFFER, "us") is Stage.CONFIRMED


def _plain(us: Participant) -> str | None:
    return token_of(us, "mcgurk")


def _by_stranger(us: Participant) -> str:
    token = token_of(us, "mcgurk")
    assert token is not None
    return authority.confirm(token, us.identity.public_key, Identity.generate(), OFFER)


def _other_offer(us: Participant) -> str:
    token = token_of(us, "mcgurk")
    assert token is not None
    return authority.confirm(token, us.identity.public_key, us.identity, "another-offer")


def _iran_token(us: Participant) -> str | None:
    return token_of(us, "bagheri")


@pytest.mark.parametrize(
    "make",
    [lambda us: None, _plain, _by_stranger, _other_offer, _iran_token],
    ids=["no token", "no confirms block", "a stranger's block", "another offer", "Iran's token"],
)
def test_a_forged_confirmation_is_dropped_by_every_reader(
    unconfirmed: dict[str, Profile], make: Callable[[Participant], str | None]
) -> None:
    """Without a token, with McGurk's token unconfirmed, confirmed by another key or for another
    offer, or with another party's token: Oman and Iran drop it (mandate.forged) and record
    nothing more."""
    people = unconfirmed
    us = people["us"].talks["t"]
    send_forged(people["us"], make(us))
    for name in ("oman", "iran"):
        talks = people[name].talks["t"]
        dropped, confirmed = len(talks.dropped), talks.view.confirmations
        stage = engine.stage(talks.view, OFFER, "us")
        people[name].sync()
        assert [d.code for d in talks.dropped[dropped:]] == ["mandate.forged"]
        assert talks.view.confirmations == confirmed
        assert engine.stage(talks.view, OFFER, "us") is stage
