"""Every rule of the engine, one behaviour per test, each naming the code it expects."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine.rules import Action, Label, Level, RelayMode, Role, RoomKind, Stage
from backchannel.errors import RuleViolation
from tests.engine.talks_builder import START, at, build, send


def refused(talks: engine.Talks, event: ev.Event) -> str:
    """Apply an event that must be refused; return its code and check nothing changed."""
    with pytest.raises(RuleViolation) as caught:
        engine.apply(talks, event)
    return caught.value.code


def relay(actor: str, source: str, room: str, mode: RelayMode, text: str = "", when: float = 2):
    return ev.Relay(
        at=at(when),
        actor=actor,
        message=f"r-{source}-{room}-{mode.value}",
        source=source,
        room=room,
        mode=mode,
        text=text,
    )


# --- ordering, ids, existence ----------------------------------------------------------------


def test_an_act_dated_back_beyond_the_tolerance_is_refused_whoever_acts() -> None:
    """Without a host the record's clock is the latest time claimed so far: an act claiming a
    time more than the tolerance (5 minutes) before it is out_of_order, whoever acts."""
    talks = build([send("us1", "us-caucus", "m1", when=10)])
    assert refused(talks, send("us1", "us-caucus", "m2", when=4)) == "event.out_of_order"
    assert refused(talks, send("ir1", "iran-caucus", "m2", when=4)) == "event.out_of_order"


def test_concurrent_acts_within_the_tolerance_are_accepted_in_record_order() -> None:
    """Devices send concurrently: an act dated before the last one, within the tolerance, is
    accepted at its place in the record, and the record's clock does not go back."""
    talks = build([send("us1", "us-caucus", "m1", when=10)])
    after = engine.apply(talks, send("ir1", "iran-caucus", "m2", when=6))
    assert after.messages["m2"].at < after.messages["m1"].at
    assert after.clock == at(10)


def test_the_hosts_time_is_the_records_clock() -> None:
    """Given the host's stamp, an act's claimed time must lie within the tolerance of it, on
    both sides: a backdated act is out_of_order, one dated ahead is ahead_of_record."""
    talks = build()
    stamp = at(30)
    assert engine.apply(talks, send("us1", "us-caucus", "m1", when=27), recorded_at=stamp)
    with pytest.raises(RuleViolation) as early:
        engine.apply(talks, send("us1", "us-caucus", "m1", when=20), recorded_at=stamp)
    with pytest.raises(RuleViolation) as late:
        engine.apply(talks, send("us1", "us-caucus", "m1", when=40), recorded_at=stamp)
    assert (early.value.code, late.value.code) == ("event.out_of_order", "event.ahead_of_record")


def test_reused_id_is_refused() -> None:
    """A message id already used (by anything) cannot be used again."""
    talks = build([send("us1", "us-caucus", "m1")])
    assert refused(talks, send("ir1", "iran-caucus", "m1", when=2)) == "id.duplicate"
    assert refused(talks, send("ir1", "iran-caucus", "us1", when=2)) == "id.duplicate"


def test_unknown_room_member_and_message_are_refused() -> None:
    """Naming something that does not exist gives entity.unknown."""
    talks = build()
    assert refused(talks, send("us1", "nowhere", "m1")) == "entity.unknown"
    assert refused(talks, send("ghost", "us-caucus", "m1")) == "entity.unknown"
    assert refused(talks, relay("om1", "missing", "iran-caucus", RelayMode.GIST, "x")) == (
        "entity.unknown"
    )


def test_rejected_event_changes_nothing() -> None:
    """A refused event leaves the talks exactly as they were."""
    talks = build()
    before = talks
    refused(talks, send("us2", "us-caucus", "m1"))
    assert talks == before and "m1" not in talks.messages


# --- rooms -------------------------------------------------------------------------------------


def test_sending_to_a_room_you_are_not_in_is_refused() -> None:
    """Only members of a room send in it."""
    assert refused(build(), send("ir1", "us-caucus", "m1")) == "room.not_member"


@pytest.mark.parametrize(
    ("member", "room"),
    [("om1", "us-del"), ("ir1", "us-caucus"), ("ir1", "us-del")],
)
def test_room_kinds_fix_who_may_join(member: str, room: str) -> None:
    """The mediator never enters a delegation room; another party never enters a caucus."""
    talks = build()
    assert refused(talks, ev.Join(at=at(1), actor=member, room=room, member=member)) == (
        "room.composition"
    )


def test_mediator_and_own_party_may_join_a_caucus() -> None:
    """A caucus holds one party's members and the mediator's."""
    talks = build(
        [
            ev.Join(at=at(1), actor="om2", room="us-caucus", member="om2"),
            ev.Join(at=at(1), actor="us3", room="us-caucus", member="us3"),
        ]
    )
    assert {"om2", "us3"} <= talks.rooms["us-caucus"].members


def test_joining_twice_is_refused() -> None:
    """A member already in a room cannot join it again."""
    event = ev.Join(at=at(1), actor="us1", room="us-caucus", member="us1")
    assert refused(build(), event) == "room.already_member"


def test_members_read_only_what_was_sent_while_they_were_in_the_room() -> None:
    """A late joiner does not read earlier messages; a leaver reads nothing later."""
    talks = build(
        [
            send("us1", "us-caucus", "before", when=1),
            ev.Join(at=at(2), actor="om2", room="us-caucus", member="om2"),
            ev.Leave(at=at(3), actor="us2", room="us-caucus", member="us2"),
            send("us1", "us-caucus", "after", when=4),
        ]
    )
    assert "om2" not in talks.messages["before"].readers
    assert "us2" in talks.messages["before"].readers
    assert "om2" in talks.messages["after"].readers
    assert "us2" not in talks.messages["after"].readers


# --- mandates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "event_kind"),
    [("us2", "send"), ("om2", "propose"), ("us1", "accept"), ("ir2", "sign")],
)
def test_each_action_needs_its_mandate(actor: str, event_kind: str) -> None:
    """send needs speak, propose needs propose, accept needs accept, sign needs sign."""
    talks = build(
        [
            ev.Propose(
                at=at(1),
                actor="ir1",
                message="offer",
                room="plenary",
                text="o",
                label=Label.CARRY_VERBATIM,
            ),
            ev.Join(at=at(1), actor="ir2", room="plenary", member="ir2"),
            ev.Join(at=at(1), actor="om2", room="plenary", member="om2"),
            ev.Join(at=at(1), actor="us2", room="plenary", member="us2"),
            ev.Propose(
                at=at(1),
                actor="us1",
                message="offer2",
                room="plenary",
                text="o2",
                label=Label.CARRY_VERBATIM,
            ),
        ]
    )
    event: ev.Event = {
        "send": send(actor, "plenary", "m", when=2),
        "propose": ev.Propose(
            at=at(2), actor=actor, message="p", room="plenary", text="p", label=Label.CARRY_GIST
        ),
        "accept": ev.Accept(at=at(2), actor=actor, proposal="offer"),
        "sign": ev.Sign(at=at(2), actor=actor, proposal="offer2"),
    }[event_kind]
    assert refused(talks, event) == "mandate.insufficient"


def test_grant_never_exceeds_the_grantor() -> None:
    """A member holding propose cannot grant accept; it can grant propose or less."""
    talks = build()
    wide = ev.Grant(at=at(1), actor="us1", grant="g1", member="us2", level=Level.ACCEPT)
    assert refused(talks, wide) == "mandate.exceeds_grantor"
    talks = engine.apply(
        talks, ev.Grant(at=at(1), actor="us1", grant="g1", member="us2", level=Level.PROPOSE)
    )
    assert engine.standing(talks, "us2", at(1)).level is Level.PROPOSE


def test_grants_stay_inside_the_party() -> None:
    """A member of one party cannot grant a mandate to another party's member."""
    event = ev.Grant(at=at(1), actor="us3", grant="g1", member="ir1", level=Level.SPEAK)
    assert refused(build(), event) == "mandate.insufficient"


def test_expired_mandate_stops_acting() -> None:
    """A grant with an expiry works before it and is refused with mandate.expired after."""
    talks = build(
        [
            ev.Grant(
                at=at(1),
                actor="iran",
                grant="short",
                member="ir1",
                level=Level.SIGN,
                expires=at(10),
            )
        ]
    )
    talks = engine.apply(talks, ev.Revoke(at=at(2), actor="iran", member="ir1"))
    talks = engine.apply(
        talks,
        ev.Grant(
            at=at(3), actor="iran", grant="short2", member="ir1", level=Level.SPEAK, expires=at(10)
        ),
    )
    talks = engine.apply(talks, send("ir1", "iran-caucus", "ok", when=9))
    assert refused(talks, send("ir1", "iran-caucus", "late", when=10)) == "mandate.expired"


def test_revocation_voids_the_revoked_members_grants_until_reissued() -> None:
    """Revoking us1 voids the observe it gave us2; a re-issue by the root restores us2."""
    talks = build([ev.Revoke(at=at(1), actor="us", member="us1")])
    assert refused(talks, send("us1", "us-caucus", "m1", when=2)) == "mandate.revoked"
    assert engine.standing(talks, "us2", at(2)).level is None
    join = ev.Join(at=at(2), actor="us2", room="plenary", member="us2")
    assert refused(talks, join) == "mandate.revoked"
    talks = engine.apply(
        talks, ev.Grant(at=at(3), actor="us", grant="re", member="us2", level=Level.OBSERVE)
    )
    assert engine.standing(talks, "us2", at(3)).level is Level.OBSERVE


def test_revoking_a_wider_mandate_is_refused() -> None:
    """A member cannot revoke a mandate wider than its own."""
    event = ev.Revoke(at=at(1), actor="us1", member="us3")
    assert refused(build(), event) == "mandate.exceeds_grantor"


def test_revoked_member_reads_nothing_new() -> None:
    """Messages sent after a revocation are not readable by the revoked member."""
    talks = build([ev.Revoke(at=at(1), actor="us", member="us2"), send("us1", "us-caucus", "m")])
    assert "us2" not in talks.messages["m"].readers


# --- devices -----------------------------------------------------------------------------------


def test_acting_from_a_revoked_or_foreign_device_is_refused() -> None:
    """A revoked device cannot act; a member cannot act through another member's device."""
    talks = build(
        [
            ev.AddDevice(
                at=at(1), actor="us1", member="us1", new_device="us1.d2", fingerprint="fp2"
            ),
            ev.RevokeDevice(at=at(1), actor="us1", target="us1.d1"),
        ]
    )
    old = ev.Send(
        at=at(2),
        actor="us1",
        device="us1.d1",
        message="m",
        room="us-caucus",
        text="t",
        label=Label.CARRY_GIST,
    )
    assert refused(talks, old) == "device.revoked"
    foreign = ev.Send(
        at=at(2),
        actor="us1",
        device="ir1.d1",
        message="m",
        room="us-caucus",
        text="t",
        label=Label.CARRY_GIST,
    )
    assert refused(talks, foreign) == "device.unknown"
    talks = engine.apply(talks, send("us1", "us-caucus", "m", when=2))
    assert "us1" in talks.messages["m"].readers


def test_member_with_every_device_revoked_cannot_act_or_read() -> None:
    """With no live device a member neither acts nor reads new messages."""
    talks = build([ev.RevokeDevice(at=at(1), actor="us", target="us2.d1")])
    talks = engine.apply(talks, send("us1", "us-caucus", "m", when=2))
    assert "us2" not in talks.messages["m"].readers
    leave = ev.Leave(at=at(3), actor="us2", room="us-caucus", member="us2")
    assert refused(talks, leave) == "device.revoked"


# --- labels and relays -------------------------------------------------------------------------


def test_mediator_only_cannot_be_sent_where_other_parties_listen() -> None:
    """A mediator-only message in a plenary is refused: every party would read it."""
    event = send("us1", "plenary", "m", Label.MEDIATOR_ONLY)
    assert refused(build(), event) == "send.label_forbids"


@pytest.mark.parametrize("mode", [RelayMode.VERBATIM, RelayMode.GIST])
def test_mediator_only_is_never_relayed(mode: RelayMode) -> None:
    """Neither verbatim nor gist: a mediator-only message stays with the mediator."""
    talks = build([send("ir1", "iran-caucus", "secret", Label.MEDIATOR_ONLY)])
    assert refused(talks, relay("om1", "secret", "us-caucus", mode, "my words")) == (
        "relay.label_forbids"
    )


def test_carry_gist_cannot_be_relayed_verbatim() -> None:
    """A carry-gist message may be carried only in the mediator's own words."""
    talks = build([send("ir1", "iran-caucus", "g", Label.CARRY_GIST)])
    assert refused(talks, relay("om1", "g", "us-caucus", RelayMode.VERBATIM)) == (
        "relay.label_forbids"
    )


def test_only_a_mediator_member_relays() -> None:
    """A party's member cannot relay, even between rooms it is in."""
    talks = build([send("us1", "us-caucus", "m")])
    assert refused(talks, relay("us1", "m", "us-del", RelayMode.VERBATIM)) == "relay.not_mediator"
    assert refused(talks, relay("oman", "m", "iran-caucus", RelayMode.VERBATIM)) == (
        "relay.not_mediator"
    )


def test_relay_needs_the_mediator_in_both_rooms_and_two_rooms() -> None:
    """The mediator relays from a room it is in to another room it is in."""
    talks = build([send("us1", "us-caucus", "m")])
    assert refused(talks, relay("om1", "m", "us-caucus", RelayMode.VERBATIM)) == "relay.same_room"
    assert refused(talks, relay("om1", "m", "us-del", RelayMode.VERBATIM)) == "room.not_member"
    talks = build(
        [
            ev.Join(at=at(0), actor="om2", room="iran-caucus", member="om2"),
            send("us1", "us-caucus", "m"),
        ]
    )
    assert refused(talks, relay("om2", "m", "iran-caucus", RelayMode.GIST, "x")) == (
        "room.not_member"
    )


def test_relay_needs_speak() -> None:
    """A mediator member whose mandate was revoked cannot relay."""
    talks = build([send("us1", "us-caucus", "m"), ev.Revoke(at=at(1), actor="oman", member="om1")])
    assert refused(talks, relay("om1", "m", "iran-caucus", RelayMode.VERBATIM)) == (
        "mandate.revoked"
    )


@pytest.mark.parametrize("text", ["", "   ", "text of m"])
def test_gist_needs_the_mediators_own_words(text: str) -> None:
    """A gist with no words, or the original words, is refused."""
    talks = build([send("us1", "us-caucus", "m", Label.CARRY_GIST)])
    assert refused(talks, relay("om1", "m", "iran-caucus", RelayMode.GIST, text)) == (
        "relay.gist_needs_text"
    )


def test_verbatim_relay_keeps_the_author_and_text() -> None:
    """A verbatim relay carries the original words under the original author."""
    talks = build(
        [send("us1", "us-caucus", "m"), relay("om1", "m", "iran-caucus", RelayMode.VERBATIM)]
    )
    carried = talks.messages["r-m-iran-caucus-verbatim"]
    assert (carried.text, carried.author, carried.relayed_by) == ("text of m", "us1", "om1")
    assert carried.readers == {"ir1", "ir2", "om1"}


def test_gist_relay_hides_its_source_from_the_other_side() -> None:
    """The gist's readers see the mediator's words, not the original nor a link to it."""
    talks = build(
        [
            send("ir1", "iran-caucus", "m", Label.CARRY_GIST),
            relay("om1", "m", "us-caucus", RelayMode.GIST, "Iran wants a ceasefire."),
        ]
    )
    seen = [msg for msg in engine.messages_for(talks, "us1") if msg.relay is RelayMode.GIST]
    assert [(m.text, m.author, m.source) for m in seen] == [
        ("Iran wants a ceasefire.", "om1", None)
    ]
    assert all(m.id != "m" for m in engine.messages_for(talks, "us1"))
    mediator_view = [m for m in engine.messages_for(talks, "om1") if m.relay is RelayMode.GIST]
    assert mediator_view[0].source == "m"


# --- consent -----------------------------------------------------------------------------------


def test_accept_then_sign_a_carried_offer() -> None:
    """The other party accepts the verbatim copy ad ref and signs: both bind the original."""
    talks = build(
        [
            ev.Propose(
                at=at(1),
                actor="ir1",
                message="offer",
                room="iran-caucus",
                text="X if Y",
                label=Label.CARRY_VERBATIM,
            ),
            ev.Join(at=at(1), actor="us3", room="us-caucus", member="us3"),
            relay("om1", "offer", "us-caucus", RelayMode.VERBATIM),
        ]
    )
    copy = "r-offer-us-caucus-verbatim"
    talks = engine.apply(talks, ev.Accept(at=at(3), actor="us3", proposal=copy))
    talks = engine.apply(talks, ev.Sign(at=at(4), actor="us3", proposal=copy))
    # Consents are decided from the copy alone: a repeated signature is recorded, not refused.
    talks = engine.apply(talks, ev.Sign(at=at(5), actor="us3", proposal=copy))
    assert [(c.proposal, c.party, c.signed) for c in talks.consents] == [
        ("offer", "us", False),
        ("offer", "us", True),
        ("offer", "us", True),
    ]


def test_a_gist_or_own_offer_cannot_be_accepted() -> None:
    """Accepting a gist (the mediator's words) or one's own party's offer is refused."""
    talks = build(
        [
            ev.Propose(
                at=at(1),
                actor="ir1",
                message="offer",
                room="iran-caucus",
                text="X if Y",
                label=Label.CARRY_VERBATIM,
            ),
            ev.Join(at=at(1), actor="us3", room="us-caucus", member="us3"),
            relay("om1", "offer", "us-caucus", RelayMode.GIST, "Iran offers X if Y"),
        ]
    )
    gist = "r-offer-us-caucus-gist"
    assert refused(talks, ev.Accept(at=at(3), actor="us3", proposal=gist)) == "proposal.invalid"
    assert refused(talks, ev.Accept(at=at(3), actor="ir2", proposal="offer")) == "proposal.invalid"
    assert refused(talks, ev.Accept(at=at(3), actor="us3", proposal="offer")) == "room.not_member"


# --- confirmation by the root (VCLT Art. 8) ----------------------------------------------------


COPY = "r-offer-us-caucus-verbatim"


def offered_and_accepted(*extra: ev.Event) -> engine.Talks:
    """Iran's offer carried verbatim into the US caucus; us3 (sign) joins and accepts the copy."""
    return build(
        [
            ev.Propose(
                at=at(1),
                actor="ir1",
                message="offer",
                room="iran-caucus",
                text="X if Y",
                label=Label.CARRY_VERBATIM,
            ),
            ev.Join(at=at(1), actor="us3", room="us-caucus", member="us3"),
            relay("om1", "offer", "us-caucus", RelayMode.VERBATIM),
            ev.Accept(at=at(3), actor="us3", proposal=COPY),
            *extra,
        ]
    )


def confirm(actor: str = "us", proposal: str = COPY, when: float = 4) -> ev.Confirm:
    return ev.Confirm(at=at(when), actor=actor, proposal=proposal)


def test_the_root_confirms_its_members_acceptance() -> None:
    """The US root confirms us3's acceptance of the copy: recorded against the original offer,
    naming the member, and the US's stage on the offer goes from agreed-ad-ref to confirmed."""
    talks = offered_and_accepted()
    assert engine.stage(talks, "offer", "us") is Stage.AGREED_AD_REF
    talks = engine.apply(talks, confirm())
    [done] = talks.confirmations
    assert (done.proposal, done.copy, done.party, done.member) == ("offer", COPY, "us", "us3")
    assert engine.stage(talks, "offer", "us") is Stage.CONFIRMED
    assert engine.stage(talks, "offer", "iran") is None
    assert talks.last is not None and talks.last.action is Action.CONFIRM


def test_a_signature_after_confirmation_keeps_the_stage_confirmed() -> None:
    """Stages only go forward: confirmed stays confirmed when a member signs afterwards."""
    talks = offered_and_accepted(confirm(), ev.Sign(at=at(5), actor="us3", proposal=COPY))
    assert engine.stage(talks, "offer", "us") is Stage.CONFIRMED


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (confirm(actor="us3"), "mandate.insufficient"),  # a member, even with 'sign'
        (confirm(actor="us1"), "mandate.insufficient"),
        (confirm(proposal="nothing"), "entity.unknown"),
        (confirm(actor="ghost"), "entity.unknown"),
        (confirm(actor="iran"), "confirm.not_accepted"),  # another party's acceptance
        (confirm(proposal="offer"), "confirm.not_accepted"),  # not the copy us3 accepted
    ],
)
def test_only_the_accepting_partys_root_confirms_the_accepted_copy(
    event: ev.Confirm, code: str
) -> None:
    """A member, an unknown actor or proposal, another party's root, or another copy: each
    refused with its code, and nothing recorded."""
    talks = offered_and_accepted()
    assert refused(talks, event) == code
    assert talks.confirmations == ()


def test_a_confirmation_the_record_puts_before_the_acceptance_confirms_nothing() -> None:
    """The record is the order: a confirmation placed before the acceptance is refused, even
    dated after it; one placed after it stands, even dated (within the tolerance) before it."""
    accepted = offered_and_accepted()
    before = replace(accepted, consents=())  # the same talks, one place before the acceptance
    assert refused(before, confirm(when=9)) == "confirm.not_accepted"
    assert engine.apply(accepted, confirm(when=2)).confirmations


def test_a_signature_alone_is_not_confirmed() -> None:
    """Confirmation is of an act done ad referendum: a copy only signed has nothing to confirm."""
    talks = build(
        [
            ev.Join(at=at(1), actor="us3", room="plenary", member="us3"),
            ev.Propose(
                at=at(1),
                actor="ir1",
                message="offer",
                room="plenary",
                text="X if Y",
                label=Label.CARRY_VERBATIM,
            ),
            ev.Sign(at=at(2), actor="us3", proposal="offer"),
        ]
    )
    assert refused(talks, confirm(proposal="offer")) == "confirm.not_accepted"


def test_confirming_twice_is_refused() -> None:
    """The root confirms a copy once; a second confirmation is confirm.duplicate."""
    talks = offered_and_accepted(confirm())
    assert refused(talks, confirm(when=5)) == "confirm.duplicate"


# --- parties and contact -----------------------------------------------------------------------


def test_a_second_mediator_is_refused() -> None:
    """The talks have at most one mediator."""
    event = ev.AddParty(at=at(1), actor="qatar", party="qatar", role=Role.MEDIATOR)
    assert refused(build(), event) == "party.invalid"


def test_initiator_is_the_first_contact_request() -> None:
    """initiator() names the earliest request, its member, time and channel."""
    talks = build(
        [
            ev.RequestContact(at=at(1), actor="ir1", request="c1", to_party="us", via="oman"),
            ev.RequestContact(at=at(2), actor="us1", request="c2", to_party="iran"),
        ]
    )
    first = engine.initiator(talks)
    assert first is not None
    assert (first.party, first.member, first.at, first.via) == ("iran", "ir1", at(1), "oman")


@pytest.mark.parametrize(("to", "via"), [("iran", None), ("us", "iran"), ("us", "us")])
def test_impossible_contact_requests_are_refused(to: str, via: str | None) -> None:
    """A party cannot ask itself, nor go through a non-mediator or a side of the talks."""
    event = ev.RequestContact(at=at(1), actor="ir1", request="c", to_party=to, via=via)
    assert refused(build(), event) == "contact.invalid"


def test_contact_request_needs_speak() -> None:
    """An observer cannot ask for talks on its party's behalf."""
    event = ev.RequestContact(at=at(1), actor="us2", request="c", to_party="iran")
    assert refused(build(), event) == "mandate.insufficient"


def test_room_kind_and_owner_must_agree() -> None:
    """A plenary has no owning party; a caucus must have one."""
    bad = ev.CreateRoom(at=at(1), actor="oman", room="x", kind=RoomKind.PLENARY, party="us")
    assert refused(build(), bad) == "room.composition"
    bad = ev.CreateRoom(at=at(1), actor="oman", room="x", kind=RoomKind.CAUCUS, party=None)
    assert refused(build(), bad) == "room.composition"


def test_time_is_the_events_own() -> None:
    """Expiry is judged against the event's time, not any clock."""
    talks = build(
        [
            ev.Grant(
                at=at(1),
                actor="us",
                grant="g",
                member="us2",
                level=Level.SPEAK,
                expires=START + timedelta(days=1),
            )
        ]
    )
    talks = engine.apply(talks, send("us2", "us-caucus", "m", when=60 * 23))
    assert "m" in talks.messages


# --- carried relays (what the target room's devices apply) --------------------------------------


def carry(mode: RelayMode, label: Label, **fields) -> ev.Carry:
    values = {"text": "Iran wants a ceasefire.", "message": "c1", "room": "us-caucus"}
    values.update(fields)
    return ev.Carry(at=at(2), actor=values.pop("actor", "om1"), mode=mode, label=label, **values)


def test_gist_carry_applies_without_the_source() -> None:
    """A US device applies the mediator's gist without ever having seen the original."""
    talks = engine.apply(build(), carry(RelayMode.GIST, Label.CARRY_GIST))
    message = talks.messages["c1"]
    assert (message.author, message.source, message.relay) == ("om1", None, RelayMode.GIST)
    assert message.readers == {"us1", "us2", "om1"}


@pytest.mark.parametrize(
    ("mode", "label", "fields", "code"),
    [
        (RelayMode.GIST, Label.MEDIATOR_ONLY, {}, "relay.label_forbids"),
        (
            RelayMode.VERBATIM,
            Label.CARRY_GIST,
            {"source": "m", "original_author": "ir1"},
            "relay.label_forbids",
        ),
        (RelayMode.GIST, Label.CARRY_GIST, {"source": "m"}, "relay.label_forbids"),
        (RelayMode.GIST, Label.CARRY_GIST, {"text": " "}, "relay.gist_needs_text"),
        (RelayMode.VERBATIM, Label.CARRY_VERBATIM, {}, "relay.gist_needs_text"),
        (RelayMode.GIST, Label.CARRY_GIST, {"actor": "us1"}, "relay.not_mediator"),
        (RelayMode.GIST, Label.CARRY_GIST, {"room": "us-del"}, "room.not_member"),
        (
            RelayMode.VERBATIM,
            Label.CARRY_VERBATIM,
            {"source": "m", "original_author": "nobody"},
            "entity.unknown",
        ),
    ],
)
def test_carries_obey_the_same_label_rules(mode, label, fields, code) -> None:
    """A receiving device refuses a carried relay that breaks a label rule, whatever it says."""
    assert refused(build(), carry(mode, label, **fields)) == code


def test_mediator_and_recipient_views_agree_on_consent() -> None:
    """Accepting a carried offer binds the original's id on the recipient's device too."""
    offer = ev.Propose(
        at=at(1),
        actor="ir1",
        message="offer",
        room="iran-caucus",
        text="X if Y",
        label=Label.CARRY_VERBATIM,
    )
    join = ev.Join(at=at(1), actor="us3", room="us-caucus", member="us3")
    accept = ev.Accept(at=at(3), actor="us3", proposal="c1")
    full = build(
        [
            offer,
            join,
            ev.Relay(
                at=at(2),
                actor="om1",
                message="c1",
                source="offer",
                room="us-caucus",
                mode=RelayMode.VERBATIM,
            ),
            accept,
        ]
    )
    projected = build(
        [
            join,
            carry(
                RelayMode.VERBATIM,
                Label.CARRY_VERBATIM,
                text="X if Y",
                source="offer",
                original_author="ir1",
                proposal=True,
            ),
            accept,
        ]
    )
    assert full.consents == projected.consents
    assert full.messages["c1"] == projected.messages["c1"]


def test_every_rule_code_has_a_test_here() -> None:
    """Each code the engine can raise is asserted by at least one test here or in a named file."""
    from pathlib import Path

    from backchannel.scenario import RULE_CODES

    # Token codes are the authority's: asserted in tests/authority.
    here = Path(__file__)
    tokens = here.parents[1] / "authority" / "test_token.py"
    # Checks only a receiving client can make (a verbatim carry's signed original): tests/client.
    verbatim = here.parents[1] / "client" / "test_verbatim.py"
    # The negotiating text's rules: tests/engine/test_text.py; what only the drafting device can
    # check (a draft quoting a message it alone holds): tests/ui/test_text.py.
    text = here.parent / "test_text.py"
    drafting = here.parents[1] / "ui" / "test_text.py"
    # Checks made at an act's place against what travelled with it (a consent's words).
    attacks = here.parents[1] / "client" / "test_attacks.py"
    # The escrow's acts: tests/engine/test_deposit.py; matching without a mediator: test_deal.py,
    # its signed outcome test_direct.py, between devices tests/client/test_direct_*.py; prefs too.
    escrow = [here.parent / f"test_{n}.py" for n in ("deposit", "deal", "direct", "preferences")]
    direct = [here.parents[1] / "client" / f"test_direct_{n}.py" for n in ("match", "session")]
    files = (here, tokens, verbatim, text, drafting, attacks, *escrow, *direct)
    source = "".join(p.read_text(encoding="utf-8") for p in files)
    untested = sorted(code for code in RULE_CODES - {"rule.violation"} if f'"{code}"' not in source)
    assert untested == []
