"""A verbatim carry brings its original as the author signed it; readers check it word for word.

After the Muscat replay, Iran's device holds the US demand that Oman carried verbatim, proven by
McGurk's signature. A mediator device that bypasses its engine cannot pass off other words under
an author's name: a carry without its original, with an altered original, or with an original
signed by another key is dropped by the reader (``relay.unverified``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from backchannel.client import acts
from backchannel.client.participant import Participant
from backchannel.client.simulation import StackRun, run, temporary_host
from backchannel.client.wire import Original
from backchannel.crypto.signed import sign_act
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, RelayMode
from backchannel.scenario import load
from tests.client.malicious import forge
from tests.client.test_forged_relay import by_member, now
from tests.test_scenario import MUSCAT


@pytest.fixture(scope="module")
def stacked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackRun]:
    scratch = tmp_path_factory.mktemp("verbatim")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        replayed = run(load(MUSCAT), url)
        yield replayed
        replayed.close()


def test_the_carried_demand_arrives_with_its_authors_signature(stacked: StackRun) -> None:
    _, iran = by_member(stacked, "bagheri")
    carried = iran.view.messages["us-demand-carried"]
    assert carried.relay is RelayMode.VERBATIM and carried.author == "mcgurk"
    item = next(i for i in iran.items() if i.event.get("message") == "us-demand-carried")
    assert item.original is not None
    original = codec.decode(item.original.event)
    assert isinstance(original, ev.Send) and original.actor == "mcgurk"
    assert original.text == carried.text
    assert not [d for p in stacked.participants.values() for d in p.dropped if "relay" in d.code]


def _carry(oman: Participant, message: str, text: str) -> ev.Carry:
    return ev.Carry(
        at=now(oman),
        actor="oman-envoy",
        device=oman.engine_device,
        message=message,
        room="iran-caucus",
        mode=RelayMode.VERBATIM,
        label=Label.CARRY_VERBATIM,
        text=text,
        lang="en",
        source="us-demand",
        original_author="mcgurk",
    )


def _dropped(stacked: StackRun, event: ev.Carry, original: Original | None = None) -> list[str]:
    oman_host, oman = by_member(stacked, "oman-envoy")
    iran_host, iran = by_member(stacked, "bagheri")
    before = len(iran.dropped)
    forge(stacked.drivers[oman_host], oman, event, to=[iran_host], original=original)
    stacked.sync(iran_host)
    assert event.message not in iran.view.messages
    return [d.code for d in iran.dropped[before:]]


def test_a_carry_without_its_original_is_dropped(stacked: StackRun) -> None:
    _, oman = by_member(stacked, "oman-envoy")
    carry = _carry(oman, "forged-v1", oman.view.messages["us-demand"].text)
    assert _dropped(stacked, carry) == ["relay.unverified"]


def test_other_words_under_the_authors_signature_are_dropped(stacked: StackRun) -> None:
    _, oman = by_member(stacked, "oman-envoy")
    genuine = acts.original_of(oman.items(), "us-demand")
    words = "The United States will accept any pause Iran offers."
    altered = Original({**genuine.event, "text": words}, genuine.signature)
    carry = _carry(oman, "forged-v2", words)
    assert _dropped(stacked, carry, original=altered) == ["relay.unverified"]


def test_an_original_signed_by_the_mediator_is_dropped(stacked: StackRun) -> None:
    _, oman = by_member(stacked, "oman-envoy")
    words = "The United States will accept any pause Iran offers."
    source = replace(codec.decode(acts.original_of(oman.items(), "us-demand").event), text=words)
    encoded = codec.encode(source)
    signature = sign_act(oman.identity, oman.talks_host_id, encoded).signature
    resigned = Original(encoded, signature)
    carry = _carry(oman, "forged-v3", words)
    assert _dropped(stacked, carry, original=resigned) == ["relay.unverified"]
