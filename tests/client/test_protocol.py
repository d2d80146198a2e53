"""The device protocol driven device to device in memory: the record's order, whatever the
order acts cross and deliveries arrive in, gives every device the same talks-wide state."""

from __future__ import annotations

import contextlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel import engine
from backchannel.client.ledger import Ledger, digest
from backchannel.client.participant import Participant
from backchannel.client.wire import Outgoing
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, Level, Role, RoomKind
from backchannel.errors import RuleViolation
from tests.client.memory import MemoryHost, cast

MEMBERS = {"envoy": "oman", "mcgurk": "us", "bagheri": "iran"}


def convened() -> tuple[MemoryHost, dict[str, Participant]]:
    """Oman mediates; each party declares itself from its member's device; all in a plenary."""
    host = MemoryHost()
    people = cast(MEMBERS, {})
    for member, party in MEMBERS.items():
        p = people[member]
        role = Role.MEDIATOR if party == "oman" else Role.PARTY
        for event in (
            ev.AddParty(at=host.tick(), actor=party, party=party, role=role),
            ev.AddMember(
                at=host.tick(),
                actor=party,
                member=member,
                party=party,
                first_device=p.device_id,
                fingerprint="fp",
            ),
            ev.Grant(
                at=host.tick(), actor=party, grant=f"g-{member}", member=member, level=Level.SIGN
            ),
        ):
            host.act(p, event)
            host.round(p)
        host.settle(people.values(), rounds=1)
    envoy = people["envoy"]
    host.act(
        envoy,
        ev.CreateRoom(
            at=host.tick(),
            actor="envoy",
            device=envoy.device_id,
            room="plenary",
            kind=RoomKind.PLENARY,
        ),
    )
    host.settle(people.values(), rounds=1)
    for member, p in people.items():
        host.act(
            p,
            ev.Join(
                at=host.tick(), actor=member, device=p.device_id, room="plenary", member=member
            ),
        )
        host.settle(people.values(), rounds=1)
    return host, people


def digests(people: dict[str, Participant]) -> set[bytes]:
    return {digest(p.view) for p in people.values()}


def test_three_devices_in_memory_hold_the_same_talks() -> None:
    """After the set-up every device applied every talks-wide act at its place, holds the same
    talks-wide state, drops nothing, and each reads the plenary's message."""
    host, people = convened()
    bagheri = people["bagheri"]
    host.act(
        bagheri,
        ev.Send(
            at=host.tick(),
            actor="bagheri",
            device=bagheri.device_id,
            message="m",
            room="plenary",
            text="hello",
            label=Label.CARRY_GIST,
        ),
    )
    host.settle(people.values())
    assert len(digests(people)) == 1
    for p in people.values():
        assert p.dropped == [] and p.witness.alarms == []
        assert p.view.messages["m"].text == "hello"
        assert set(p.view.parties) == {"oman", "us", "iran"}


def test_posted_digests_are_compared_and_agree() -> None:
    """Each device posts its checkpoint with its state's digest; each compares the others'."""
    host, people = convened()
    for p in people.values():
        item = p.checkpoint_item(0)
        assert item is not None and item.digest is not None
        host.send(p.device_id, Outgoing({d.host_device: [item] for d in p.directory.live()}))
    host.settle(people.values(), rounds=1)
    for p in people.values():
        assert p.witness.alarms == []
        assert set(p.compared) == {q.device_id for q in people.values() if q is not p}


ACTORS = st.sampled_from(["envoy", "mcgurk", "bagheri"])
STEP = st.one_of(
    st.tuples(st.just("round"), ACTORS),
    st.tuples(
        st.just("draft"),
        st.sampled_from(["a1", "a2"]),
        st.sampled_from(["[x | y]", "words", "more words"]),
    ),
    st.tuples(
        st.just("consent"),
        st.sampled_from(["mcgurk", "bagheri"]),
        st.sampled_from([ev.AgreeArticle, ev.InitialArticle, ev.SignArticle]),
        st.sampled_from(["a1", "a2"]),
        st.integers(1, 3),
    ),
    st.tuples(st.just("say"), ACTORS),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(STEP, max_size=30), st.randoms(use_true_random=False))
def test_any_crossing_of_acts_ends_in_one_state(steps: list[tuple], rng: random.Random) -> None:
    """Drafts, consents and messages by every device, each checked only against what its device
    holds when it acts, with devices syncing in any order: once all have synced, every device
    holds the same talks-wide state, which is the engine's over the record in its order."""
    host, people = convened()
    said = 0
    for step in steps:
        match step:
            case ("round", member):
                host.round(people[member])
            case ("draft", article, words):
                event: ev.Event = ev.DraftArticle(
                    at=host.tick(),
                    actor="envoy",
                    device=people["envoy"].device_id,
                    article=article,
                    text=words,
                )
                _try(host, people["envoy"], event)
            case ("consent", member, kind, article, version):
                p = people[member]
                _try(
                    host,
                    p,
                    kind(
                        at=host.tick(),
                        actor=member,
                        device=p.device_id,
                        article=article,
                        version=version,
                    ),
                )
            case ("say", member):
                said += 1
                p = people[member]
                _try(
                    host,
                    p,
                    ev.Send(
                        at=host.tick(),
                        actor=member,
                        device=p.device_id,
                        message=f"m{said}",
                        room="plenary",
                        text="x",
                        label=Label.CARRY_GIST,
                    ),
                )
    order = list(people.values())
    rng.shuffle(order)
    host.settle(order)
    assert len(digests(people)) == 1
    for p in people.values():
        assert p.witness.alarms == []
        assert p.ledger.waiting == {}


def _try(host: MemoryHost, participant: Participant, event: ev.Event) -> None:
    with contextlib.suppress(RuleViolation):  # refused on the acting device: nothing sent
        host.act(participant, event)


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_a_ledger_folds_to_one_view_whatever_order_events_arrive_in(rng: random.Random) -> None:
    """What one device held, handed to a fresh ledger in a random order, with advances at
    random moments: the same view as the device's own, event for event."""
    _, people = convened()
    p = people["envoy"]
    held = [h for _, (h, _t) in sorted(p.ledger.placed.items())]
    fresh = Ledger(p.view.id, p._check_placed)
    fresh.extend(p.ledger.entries)
    rng.shuffle(held)
    for h in held:
        fresh.hold(h)
        if rng.random() < 0.3:
            fresh.advance(rng.randrange(len(p.ledger.entries) + 1))
    fresh.advance(len(p.ledger.entries))
    assert fresh.view == p.view
    assert engine.shared_state(fresh.view) == engine.shared_state(p.view)
