"""What the record proves of the escrow, on every device: a match opens its deposits there.

A deposit's full act reaches only the mediator's devices and its own party's; the others hold a
notice naming its record entry. When the mediator announces a match, the parties concerned
receive the matched deposits' openings (the signed act and the salt of its entry), so each
device's own record — exported with content and verified offline — proves who deposited what,
and when, while an unmatched deposit stays sealed in every other party's record. A member who
joins after the deposits counts them too, and a party outside a match learns that it closed
them, never what they held.
"""

from __future__ import annotations

import json
from pathlib import Path

from backchannel.client import bundle, deposits
from backchannel.client.invites import Invite
from backchannel.client.participant import Participant
from backchannel.client.preferences import agenda_document
from backchannel.client.profile import Profile
from backchannel.client.simulation import temporary_host
from backchannel.engine import events as ev
from backchannel.engine import preferences, scores
from backchannel.engine.deposit import commitment_text
from backchannel.engine.rules import DepositStatus, Level, RoomKind
from tests.client.people import join, make, settle
from tests.client.test_deposits import RECIPROCAL, SEALED, canaried_muscat, through_host

IRAN, US = "iran-halving-if-ceasefire", "us-ceasefire-if-halving"
PROBLEM = RECIPROCAL.with_name("muscat-2024.preferences.json")


def side_of(participant: Participant) -> str:
    view = participant.view
    if participant.me in view.parties:
        return participant.me
    return view.members[participant.me].party


def test_every_devices_record_of_a_match_verifies_and_proves_both_deposits(
    tmp_path: Path,
) -> None:
    """After the reciprocal match, each device's record with content verifies offline, and
    opens both matched deposits, each by its depositing member at its place."""
    stacked, _ = through_host(RECIPROCAL, tmp_path)
    for participant in stacked.participants.values():
        verified = bundle.verify(bundle.export(participant, with_content=True))
        deposits = {
            a.event.deposit: (a.event.actor, a.index)
            for a in verified.acts
            if isinstance(a.event, ev.Deposit)
        }
        assert set(deposits) == {IRAN, US}, participant.me
        assert deposits[IRAN][0] == "bagheri" and deposits[US][0] == "mcgurk"
        matches = [a for a in verified.acts if isinstance(a.event, ev.AnnounceMatch)]
        assert len(matches) == 1 and matches[0].index > max(i for _, i in deposits.values())
        assert verified.view is not None
        assert verified.view.deposits[IRAN].status is DepositStatus.MATCHED
        assert participant.witness.alarms == [], participant.me


def test_an_unmatched_deposit_stays_sealed_in_the_other_partys_record(tmp_path: Path) -> None:
    """In Muscat nothing matches: the US's record verifies with content, opens its own deposit
    and not Iran's, and holds no byte of it."""
    stacked, _ = through_host(canaried_muscat(tmp_path), tmp_path / "host")
    for participant in stacked.participants.values():
        exported = bundle.export(participant, with_content=True)
        verified = bundle.verify(exported)
        opened = {a.event.deposit for a in verified.acts if isinstance(a.event, ev.Deposit)}
        side = side_of(participant)
        if side == "us":
            assert IRAN not in opened and SEALED not in json.dumps(exported, ensure_ascii=False)
        if side == "iran":
            assert IRAN in opened


def _talks(tmp_path: Path, url: str) -> dict[str, Profile]:
    """Oman mediates; the US, Iran and Qatar join; Iran and the US each have a caucus."""
    people = {name: make(tmp_path, name, url) for name in ("oman", "us", "iran", "qatar")}
    oman = people["oman"]
    oman.create_talks("t", party="oman", member="envoy", mediator=True)
    for party, member in (("us", "mcgurk"), ("iran", "bagheri"), ("qatar", "envoy-qa")):
        join(oman, people[party], party, member, level=Level.PROPOSE, others=people.values())
    for party in ("us", "iran"):
        room = f"{party}-caucus"
        oman.act(oman.talks["t"], ev.CreateRoom, room=room, kind=RoomKind.CAUCUS, party=party)
    settle(people.values())
    return people


def _deposit(person: Profile, member: str, deposit: str) -> None:
    document = json.loads(RECIPROCAL.with_name("muscat-2024-reciprocal.escrow.json").read_text())
    text = commitment_text(document, deposit)
    assert text is not None
    person.act(person.talks["t"], ev.Deposit, actor=member, deposit=deposit, commitment=text)


def test_a_party_outside_a_match_counts_it_and_a_later_member_counts_the_deposits(
    tmp_path: Path,
) -> None:
    """Qatar, outside the match, counts the two deposits while open and sees them close when
    Oman announces the match, without ever holding their commitments; a Qatari member who joins
    after the deposits and Iran's scoring counts them, and knows Iran scored, as every device
    does."""
    with temporary_host(f"sqlite:///{tmp_path}/host.db") as url:
        people = _talks(tmp_path, url)
        late = make(tmp_path, "qatar-late", url)
        try:
            _deposit(people["iran"], "bagheri", IRAN)
            _deposit(people["us"], "mcgurk", US)
            problem = json.loads(PROBLEM.read_text(encoding="utf-8"))
            oman_talks = people["oman"].talks["t"]
            people["oman"].act(oman_talks, ev.SetAgenda, agenda=agenda_document(problem))
            settle(people.values())
            scored = scores.dumps(scores.from_problem(problem, "iran"))
            iran = people["iran"]
            iran.act(iran.talks["t"], ev.SubmitScores, actor="bagheri", version=1, scores=scored)
            settle(people.values())
            qatar = people["qatar"]
            assert qatar.talks["t"].view.sealed_counts()["iran"] == 1
            code = qatar.invite_member("t", "qa-aide", level=Level.OBSERVE).encode()
            late.join(Invite.decode(code), member="qa-aide")
            settle([*people.values(), late])
            counts = {"us": 1, "iran": 1, "oman": 0, "qatar": 0}
            assert late.talks["t"].view.sealed_counts() == counts
            knows = preferences.submitted(late.talks["t"].view)
            assert knows == preferences.submitted(qatar.talks["t"].view) and knows["iran"]
            assert late.talks["t"].view.submissions["iran"].sealed
            oman = people["oman"]
            mediator = oman.talks["t"]
            assert deposits.match(oman, mediator, "m1")["matched"]
            settle([*people.values(), late])
            for name, person in [*people.items(), ("qatar-late", late)]:
                view = person.talks["t"].view
                statuses = {d.status for d in view.deposits.values()}
                assert statuses == {DepositStatus.MATCHED}, name
                assert "m1" in view.matches, name
                if name.startswith("qatar"):
                    assert all(d.sealed for d in view.deposits.values()), name
                    stored = json.dumps(person.talks["t"].snapshot(), ensure_ascii=False)
                    assert "reduction_pct" not in stored and "influence" not in stored, name
                verified = bundle.verify(bundle.export(person.talks["t"], with_content=True))
                assert verified.view is not None
        finally:
            for person in [*people.values(), late]:
                person.close()
