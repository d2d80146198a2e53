"""Invariants of the engine over random event sequences (Hypothesis).

Each example builds the standard talks (see ``talks_builder``) and applies a random sequence of
events drawn from every action, over the same members and rooms; refused events are skipped, as a
client would. The invariants are checked after every accepted event and at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine.mandate import standing
from backchannel.engine.rules import PRIVATE_ROOM_KINDS, REQUIRED_LEVEL, Label, Level, RelayMode
from backchannel.errors import RuleViolation
from tests.engine.talks_builder import MEMBERS, ROOMS, at, build

ACTORS = [*MEMBERS, "us", "iran", "oman"]
MEMBER_IDS = list(MEMBERS)
ROOM_IDS = list(ROOMS)
LEVELS = list(Level)

KINDS = (
    ["send"] * 6
    + ["propose"] * 2
    + ["relay"] * 6
    + ["join"] * 2
    + ["leave", "grant", "grant"]
    + ["revoke", "add_device", "revoke_device", "accept", "accept", "sign", "sign", "contact"]
    + ["add_member", "confirm", "confirm"]
)


@dataclass
class Run:
    """The state of one random run: the talks, and the events accepted so far."""

    talks: engine.Talks = field(default_factory=build)
    accepted: list[ev.Event] = field(default_factory=list)
    refused_codes: list[str] = field(default_factory=list)


def choose(data: st.DataObject, likely: list[str], everything: list[str]) -> str:
    """Mostly one of ``likely`` (drawn from the state), sometimes anything at all."""
    if likely and data.draw(st.integers(0, 9)) < 8:
        return data.draw(st.sampled_from(sorted(likely)))
    return data.draw(st.sampled_from(everything))


def draw_event(data: st.DataObject, run: Run, index: int) -> ev.Event:
    """Draw the next event, mostly plausible for the current state, at minute ``index + 1``."""
    talks, when = run.talks, at(index + 1)
    kind = data.draw(st.sampled_from(KINDS))
    messages = list(talks.messages) or ["none"]
    actor = choose(data, MEMBER_IDS, ACTORS)
    in_rooms = [r for r, room in talks.rooms.items() if actor in room.members]
    draw = data.draw
    match kind:
        case "send" | "propose":
            cls = ev.Send if kind == "send" else ev.Propose
            return cls(
                at=when,
                actor=actor,
                message=f"m{index}",
                room=choose(data, in_rooms, ROOM_IDS),
                text=f"t{index}",
                label=draw(st.sampled_from(list(Label))),
            )
        case "relay":
            actor = choose(data, ["om1", "om2"], ACTORS)
            readable = [m.id for m in talks.messages.values() if actor in m.readers]
            own_rooms = [r for r, room in talks.rooms.items() if actor in room.members]
            return ev.Relay(
                at=when,
                actor=actor,
                message=f"m{index}",
                source=choose(data, readable, messages),
                room=choose(data, own_rooms, ROOM_IDS),
                mode=draw(st.sampled_from(list(RelayMode))),
                text=f"gist {index}" if draw(st.booleans()) else "",
            )
        case "join" | "leave":
            cls = ev.Join if kind == "join" else ev.Leave
            return cls(at=when, actor=actor, room=draw(st.sampled_from(ROOM_IDS)), member=actor)
        case "grant":
            member = draw(st.sampled_from(MEMBER_IDS))
            grantor = choose(data, [member, talks.members[member].party], ACTORS)
            expiry = draw(st.none() | st.integers(1, 40))
            return ev.Grant(
                at=when,
                actor=grantor,
                grant=f"g{index}",
                member=member,
                level=draw(st.sampled_from(LEVELS)),
                expires=None if expiry is None else at(index + expiry),
            )
        case "revoke":
            return ev.Revoke(
                at=when,
                actor=choose(data, ["us", "iran", "oman"], ACTORS),
                member=draw(st.sampled_from(MEMBER_IDS)),
            )
        case "add_device":
            return ev.AddDevice(
                at=when, actor=actor, member=actor, new_device=f"d{index}", fingerprint=f"fp{index}"
            )
        case "revoke_device":
            return ev.RevokeDevice(
                at=when,
                actor=draw(st.sampled_from(ACTORS)),
                target=draw(st.sampled_from(sorted(talks.devices))),
            )
        case "add_member":
            party = draw(st.sampled_from(["us", "iran", "oman"]))
            return ev.AddMember(
                at=when,
                actor=choose(data, [party], ACTORS),
                member=f"n{index}",
                party=party,
                first_device=f"n{index}.d1",
                fingerprint="fp",
            )
        case "accept" | "sign":
            cls = ev.Accept if kind == "accept" else ev.Sign
            actor = choose(data, ["us3", "ir2", "us1", "ir1"], ACTORS)
            readable = [m.id for m in talks.messages.values() if actor in m.readers]
            return cls(at=when, actor=actor, proposal=choose(data, readable, messages))
        case "confirm":
            # Mostly a root naming a copy its party accepted; sometimes anyone, anything.
            pending = sorted({f"{c.party} {c.copy}" for c in talks.consents if not c.signed})
            everything = [f"{a} {m}" for a in ACTORS for m in messages]
            who, copy = choose(data, pending, everything).split(" ")
            return ev.Confirm(at=when, actor=who, proposal=copy)
        case _:
            return ev.RequestContact(
                at=when,
                actor=actor,
                request=f"c{index}",
                to_party=draw(st.sampled_from(["us", "iran", "oman"])),
                via=draw(st.sampled_from([None, "oman", "us"])),
            )


def party_of(talks: engine.Talks, member: str) -> str:
    return talks.members[member].party


def check_step(before: engine.Talks, after: engine.Talks, event: ev.Event) -> None:
    """Invariants of one accepted event, comparing the talks before and after it."""
    mediator = after.mediator
    assert mediator is not None
    # Whoever acts holds a live mandate on a live device (roots act offline).
    if event.actor in after.members:
        held = standing(before, event.actor, event.at).level
        assert held is not None
        assert held >= REQUIRED_LEVEL[event.action]
    if isinstance(event, ev.Send | ev.Propose | ev.Relay):
        message = after.messages[event.message]
        room = before.rooms[message.room]
        # No non-member ever reads a room's message, and the one who posts it is in the room.
        assert message.readers <= room.members
        assert event.actor in room.members
        # Every reader holds a live mandate and a live device when the message is sent.
        for reader in message.readers:
            assert standing(before, reader, event.at).level is not None
            assert any(
                d.member == reader and (d.revoked_at is None or d.revoked_at > event.at)
                for d in before.devices.values()
            )
        if message.label is Label.MEDIATOR_ONLY:
            # Only the room's own party and the mediator ever read a mediator-only message.
            assert room.kind in PRIVATE_ROOM_KINDS
            assert {party_of(after, r) for r in message.readers} <= {room.party, mediator.id}
        if isinstance(event, ev.Relay):
            source = before.messages[event.source]
            assert source.label is not Label.MEDIATOR_ONLY
            assert party_of(after, event.actor) == mediator.id
            if event.mode is RelayMode.GIST:
                assert message.text != source.text and message.author == event.actor
    if isinstance(event, ev.Confirm):
        # Only a root confirms, once per copy, an acceptance ad ref its party's member made.
        assert event.actor in after.parties
        assert any(
            c.party == event.actor and c.copy == event.proposal and not c.signed
            for c in before.consents
        )
        assert not any(
            c.party == event.actor and c.copy == event.proposal for c in before.confirmations
        )
        assert engine.stage(after, after.confirmations[-1].proposal, event.actor) == "confirmed"
    if isinstance(event, ev.Grant) and event.actor in after.members:
        # No mandate exceeds its grantor's.
        grantor_level = standing(before, event.actor, event.at).level
        assert grantor_level is not None and event.level <= grantor_level


def check_final(talks: engine.Talks, end_at) -> None:
    """Invariants of the final talks: chained grants never outrank their grantors."""
    for member in talks.members:
        level = standing(talks, member, end_at).level
        if level is None:
            continue
        supports = []
        for grant in talks.grants.values():
            if grant.member != member or grant.revoked_at is not None:
                continue
            if grant.expires is not None and grant.expires <= end_at:
                continue
            if grant.grantor is None:
                supports.append(grant.level)
            else:
                upstream = standing(talks, grant.grantor, end_at).level
                if upstream is not None:
                    supports.append(min(grant.level, upstream))
        assert supports and level <= max(supports)


def play(data: st.DataObject, steps: int) -> Run:
    """Apply ``steps`` drawn events, checking the invariants after each accepted one."""
    run = Run()
    revoked: set[str] = set()
    for index in range(steps):
        event = draw_event(data, run, index)
        try:
            after = engine.apply(run.talks, event)
        except RuleViolation as exc:
            run.refused_codes.append(exc.code)
            continue
        # After a revocation, every action of that member is refused until it is granted again.
        assert event.actor not in revoked
        check_step(run.talks, after, event)
        if isinstance(event, ev.Revoke):
            revoked.add(event.member)
        elif isinstance(event, ev.Grant):
            revoked.discard(event.member)
        run.talks = after
        run.accepted.append(event)
    check_final(run.talks, at(steps + 1))
    return run


@given(st.data(), st.integers(0, 80))
def test_invariants_hold_over_random_sequences(data: st.DataObject, steps: int) -> None:
    """Readers ⊆ room members; mediator-only stays with its party and the mediator; relays obey
    labels; grants never exceed grantors; revoked members cannot act; only roots confirm, once,
    what their members accepted."""
    play(data, steps)


@given(st.data(), st.integers(0, 50))
def test_replaying_the_same_events_gives_the_same_state(data: st.DataObject, steps: int) -> None:
    """Deterministic: the accepted events replayed on a fresh talks give an equal state."""
    run = play(data, steps)
    again = build()
    for event in run.accepted:
        again = engine.apply(again, event)
    assert again == run.talks
