"""Offers and consent by CLI, three profiles on one real host: propose, accept, sign, confirm.

The US member accepts Iran's offer ad referendum; the US root (the same profile: each profile is
its party's root) confirms it; the record's verified timeline shows the stages, and every device
applied every act. Refusals come back with the rule's code, having sent nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backchannel.client.simulation import temporary_host
from tests.cli.test_rooms import Person

OFFER_TEXT = "Talks continue while the strikes stop"


@pytest.fixture(scope="module")
def geneva(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Person]]:
    """Oman convenes and mediates; the US (McGurk, accept) and Iran (Bagheri, propose) join; all
    three are in the plenary, where Iran offers."""
    scratch = tmp_path_factory.mktemp("geneva")
    with temporary_host(f"sqlite:///{scratch}/host.db") as host:
        people = {name: Person(scratch / name) for name in ("oman", "us", "iran")}
        for name, person in people.items():
            person("profile", "create", "--host", host, "--name", name, "--kdf", "interactive")
        oman, us, iran = people["oman"], people["us"], people["iran"]
        oman("talks", "create", "geneva", "--party", "oman", "--member", "envoy", "--mediator")
        for party, person, member, level in (
            ("us", us, "mcgurk", "accept"),
            ("iran", iran, "bagheri", "propose"),
        ):
            code = oman("talks", "invite", "geneva", "--party", party)["invite"]
            person("talks", "join", code, "--member", member, "--level", level)
        for person in people.values():
            person("talks", "list")
        oman("room", "create", "geneva", "plenary", "--kind", "plenary")
        for name, person in people.items():
            person("talks", "list")
            if name != "oman":  # the creator is in the room it created
                person("room", "join", "geneva", "plenary")
        offered = iran(
            "propose",
            "geneva",
            "--room",
            "plenary",
            "--text",
            OFFER_TEXT,
            "--label",
            "carry-verbatim",
            "--id",
            "offer",
        )
        assert offered == {
            "talks": "geneva",
            "proposal": "offer",
            "room": "plenary",
            "label": "carry-verbatim",
            "warnings": [],
        }
        yield people


def test_accept_then_confirm_shows_confirmed_in_the_timeline(geneva: dict[str, Person]) -> None:
    """The US root cannot confirm before its member accepts; McGurk accepts ad referendum
    (agreed-ad-ref); the root confirms (confirmed); a second confirmation is refused. Oman's
    verified timeline shows both stages, the confirmation by the US root naming McGurk."""
    us, oman = geneva["us"], geneva["oman"]
    early = us("confirm", "geneva", "offer", code=2)
    assert early["error"]["code"] == "confirm.not_accepted"
    accepted = us("accept", "geneva", "offer")
    assert (accepted["actor"], accepted["party"], accepted["stage"]) == (
        "mcgurk",
        "us",
        "agreed-ad-ref",
    )
    confirmed = us("confirm", "geneva", "offer")
    assert (confirmed["actor"], confirmed["party"], confirmed["stage"]) == ("us", "us", "confirmed")
    again = us("confirm", "geneva", "offer", code=2)
    assert again["error"]["code"] == "confirm.duplicate"
    timeline = oman("record", "timeline", "geneva")["timeline"]
    stages = [(a["actor"], a["stage"], a["proposal"]) for a in timeline if "stage" in a]
    assert stages == [("mcgurk", "agreed-ad-ref", "offer"), ("us", "confirmed", "offer")]
    act: dict[str, Any] = next(a for a in timeline if a["action"] == "confirm")
    assert (act["party"], act["mandate"], act["confirms"]) == ("us", "root", "mcgurk")
    for person in geneva.values():
        (talks,) = person("talks", "list")["talks"]
        assert talks["dropped"] == []


def test_sign_needs_its_mandate(geneva: dict[str, Person]) -> None:
    """McGurk holds 'accept': signing is refused (mandate.insufficient); Oman's envoy, holding
    'sign', signs the offer it read, and Oman's stage on it is 'signed'."""
    refused = geneva["us"]("sign", "geneva", "offer", code=2)
    assert refused["error"]["code"] == "mandate.insufficient"
    signed = geneva["oman"]("sign", "geneva", "offer")
    assert (signed["actor"], signed["party"], signed["stage"]) == ("envoy", "oman", "signed")
