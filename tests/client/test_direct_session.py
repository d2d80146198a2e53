"""The direct match through the talks: two real profiles, one real host, real PSI over Olm.

The 2026 direct channel: the US and Iran, no mediator. Each device holds only its own
commitments (its own file); the rounds travel as Psi items to the other party's devices; both
sign the outcome in the record. Canaries in each side's unmatched commitment must reach neither
the other side's device nor the host; a deviating party is refused and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.client import bundle, wire
from backchannel.client import direct_run as dr
from backchannel.client import direct_session as ds
from backchannel.client.invites import Invite
from backchannel.client.profile import Profile
from backchannel.client.simulation import temporary_host
from backchannel.client.wire import Outgoing, Psi
from backchannel.crypto import psi
from backchannel.engine import codec, deposit, direct
from backchannel.engine import events as ev
from backchannel.engine.rules import Level
from backchannel.errors import (
    DirectOutcomeDiffers,
    DirectTimedOut,
    DirectUnavailable,
    MandateInsufficient,
    WireMalformed,
)
from tests.client.people import PASSPHRASE, join, make, settle
from tests.test_scenario import ROOT

DIRECT = ROOT / "scenarios" / "direct-channel-2026.escrow.json"
CANARIES = {"us": "SEALED-US-CANARY", "iran": "SEALED-IRAN-CANARY"}
UNMATCHED = {"us": "us-formal-talks-if-detainees", "iran": "iran-detainees-if-reparations"}
SIZE = 1024


def own_file(party: str) -> dict[str, Any]:
    """The 2026 escrow as ``party``'s device holds it: the public actions and scales, and only
    its own commitments."""
    data: dict[str, Any] = json.loads(DIRECT.read_text(encoding="utf-8"))
    data["commitments"] = [c for c in data["commitments"] if c["party"] == party]
    return data


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real host on 127.0.0.1, its SQLite files under ``tmp_path/host``."""
    folder = tmp_path / "host"
    folder.mkdir()
    with temporary_host(f"sqlite:///{folder}/host.db") as url:
        yield url, folder


@pytest.fixture
def envoys(tmp_path: Path, host: tuple[str, Path]) -> Iterator[dict[str, Profile]]:
    """The US envoy convenes talks ``t``; Iran's envoy joins; both with ``propose``."""
    url, _ = host
    us, iran = make(tmp_path, "us", url), make(tmp_path, "iran", url)
    us.create_talks("t", party="us", member="witkoff", level=Level.PROPOSE)
    join(us, iran, "iran", "araghchi", level=Level.PROPOSE)
    yield {"us": us, "iran": iran}
    for profile in (us, iran):
        profile.close()


Cheat = Callable[[list[Outgoing]], list[Outgoing]]


def play(
    first: tuple[Profile, ds.DirectRun], second: tuple[Profile, ds.DirectRun], turns: int = 8
) -> tuple[ds.DirectRun, ds.DirectRun]:
    """Both sides take turns (one sync each) until both finished."""
    (a, run_a), (b, run_b) = first, second
    for _ in range(turns):
        if dr.finished(run_a) and dr.finished(run_b):
            break
        run_a, run_b = dr.step(a, run_a), dr.step(b, run_b)
    return run_a, run_b


def both(envoys: dict[str, Profile]) -> tuple[ds.DirectRun, ds.DirectRun]:
    us, iran = envoys["us"], envoys["iran"]
    run_us = dr.begin(us, "t", own_file("us"), size=SIZE)
    run_iran = dr.begin(iran, "t", own_file("iran"), size=SIZE)
    return play((us, run_us), (iran, run_iran))


def stored(profile: Profile) -> str:
    """Everything the profile keeps (what it seals at rest), as text."""
    states = {a: p.snapshot() for a, p in profile.talks.items()}
    return json.dumps([states, profile.direct.snapshot()], ensure_ascii=False)


def test_two_profiles_complete_the_2026_direct_match(
    envoys: dict[str, Profile], host: tuple[str, Path]
) -> None:
    """Peace for a guarantee and oil exports, settled at 1.25 mbpd, in stages; both parties sign
    the same words in the record, which verifies; no unmatched commitment of either side reaches
    the other side's device store, and no commitment reaches the host's database."""
    run_us, run_iran = both(envoys)
    assert run_us.initiator and not run_iran.initiator and run_us.session == run_iran.session
    assert run_us.learned is not None and run_iran.learned is not None
    us_out, iran_out = run_us.learned.outcome, run_iran.learned.outcome
    assert [c.id for c in us_out.commitments] == ["us-guarantee-if-peace"]
    assert {c.id for c in run_us.learned.disclosed} == {
        "iran-peace-if-guaranteed",
        "iran-authority-if-guaranteed",
    }
    assert {c.id for c in run_iran.learned.disclosed} == {"us-guarantee-if-peace"}
    (settled,) = us_out.settlements
    assert (settled.value, settled.low, settled.high) == pytest.approx((1.25, 1.0, 1.5))
    assert run_us.learned.plan == run_iran.learned.plan
    assert any(s.simultaneous for s in run_us.learned.plan)
    assert iran_out.settlements == us_out.settlements
    assert run_us.learned.other_size == run_iran.learned.other_size == SIZE
    words = run_us.words()
    assert words is not None and words == run_iran.words()
    for name, profile in envoys.items():
        participant = profile.participant("t")
        assert participant.dropped == [] and participant.witness.alarms == []
        held = participant.view.direct[run_us.session]
        assert held.agreed and held.outcome == words and set(held.signed) == {"us", "iran"}
        acts = [codec.decode(h.item.event) for h in participant.applied()]
        signed = [e for e in acts if isinstance(e, ev.DirectMatch)]
        assert {e.actor for e in signed} == {"witkoff", "araghchi"}, name
        exported = bundle.export(participant, with_content=True)
        bundle.verify(exported)  # the record proves both signatures over the words
    # The canaries: each side's unmatched commitment stays on its own device (in its file).
    assert CANARIES["us"] not in stored(envoys["iran"])
    assert UNMATCHED["us"] not in stored(envoys["iran"])
    assert CANARIES["iran"] not in stored(envoys["us"])
    assert UNMATCHED["iran"] not in stored(envoys["us"])
    for profile in envoys.values():
        profile.close()
    _, folder = host
    database = b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith("host.db"))
    assert len(database) > 10_000
    for text in [*CANARIES.values(), *UNMATCHED.values(), "us-guarantee-if-peace", "oil_exports"]:
        assert text.encode() not in database


def send_rounds(profile: Profile, session: str, number: int, payload: bytes) -> None:
    """Send a round of ``session`` as ``profile``'s device, to every other party's device."""
    participant = profile.participant("t")
    own = participant.introduction.party if participant.introduction else ""
    devices = [p.host_device for p in participant.directory.live() if p.party != own]
    for part in ds.cut(session, number, payload):
        profile.driver.send(participant, Outgoing({d: [part] for d in devices}))


def test_malformed_foreign_and_replayed_rounds_are_refused_and_change_nothing(
    envoys: dict[str, Profile],
) -> None:
    """Iran's device first sends a malformed reply, a reply made in other talks and a round of
    another session, then answers honestly and replays its reply: the US device drops each with
    its code, its session stays where it was, and the honest match completes as before."""
    us, iran = envoys["us"], envoys["iran"]
    run_us = dr.begin(us, "t", own_file("us"), size=SIZE)
    send_rounds(iran, run_us.session, 2, b"{not a psi message")
    elsewhere = psi.Session.open("other-talks", "s", [], initiator=True, size=SIZE)
    responder = psi.Session.open("other-talks", "s", [b"x"], initiator=False, size=SIZE)
    foreign = responder.receive(elsewhere.start())
    assert foreign is not None
    send_rounds(iran, run_us.session, 2, psi.encode(foreign))
    send_rounds(iran, "f" * 32, 3, b"a round of another session")
    run_us = dr.step(us, run_us)
    assert run_us.expect == 2 and not run_us.done  # nothing changed
    codes = [d.code for d in us.participant("t").dropped]
    assert codes == ["psi.malformed", "psi.wrong_context", "psi.wrong_context"]
    # Iran answers honestly, and keeps what it sent to send it again.
    iran.sync()
    talks = iran.participant("t").talks_host_id
    offer = ds.joined(iran.direct.of(talks))
    iran.direct.remove(talks, iran.direct.of(talks))
    run_iran, reply = ds.answer(
        iran.participant("t"),
        own_file("iran"),
        offer,
        session=run_us.session,
        other="us",
        size=SIZE,
    )
    for out in reply:
        iran.driver.send(iran.participant("t"), out)
    run_us = dr.step(us, run_us)
    assert run_us.expect == 4
    for out in reply:  # the replay: the same round again
        iran.driver.send(iran.participant("t"), out)
    run_us, run_iran = play((us, run_us), (iran, run_iran))
    assert dr.finished(run_us) and dr.finished(run_iran)
    assert [d.code for d in us.participant("t").dropped][3:] == ["psi.out_of_order"]
    assert us.participant("t").view.direct[run_us.session].agreed


def test_a_false_disclosure_is_refused_and_nothing_is_signed(envoys: dict[str, Profile]) -> None:
    """Iran's device (the responder) runs the intersection honestly, takes the US disclosure,
    then discloses its unmatched commitment in place of the matched ones: the US device refuses
    it (direct.disclosure_differs), learns nothing, signs nothing, and holds no direct match."""
    us, iran = envoys["us"], envoys["iran"]
    run_us = dr.begin(us, "t", own_file("us"), size=SIZE)
    run_iran = dr.begin(iran, "t", own_file("iran"), size=SIZE)

    def iran_pumps() -> list[Outgoing]:
        nonlocal run_iran
        iran.sync()
        run_iran, outs = ds.pump(iran.direct, run_iran)
        return outs

    run_us = dr.step(us, run_us)  # round 3
    for out in iran_pumps():  # round 4
        iran.driver.send(iran.participant("t"), out)
    run_us = dr.step(us, run_us)  # the US disclosure, first
    honest = iran_pumps()
    assert run_iran.learned is not None and honest
    assert all(i.round == 5 for o in honest for items in o.payloads.values() for i in items)
    lie = deposit.commitment_text(own_file("iran"), UNMATCHED["iran"])
    assert lie is not None
    send_rounds(iran, run_us.session, 5, direct.canonical({"commitments": [lie]}).encode())
    for _ in range(3):
        run_us = dr.step(us, run_us)
    assert run_us.learned is None and not run_us.signed
    assert [d.code for d in us.participant("t").dropped] == ["direct.disclosure_differs"]
    assert dict(us.participant("t").view.direct) == {}


def test_an_outcome_the_other_side_did_not_compute_is_never_co_signed(
    envoys: dict[str, Profile],
) -> None:
    """Iran's device (the responder: it learns the disclosures first) signs words with another
    settlement (1.1 mbpd, inside both ranges) before the US device signs: the US device refuses
    to co-sign (direct.outcome_differs), and the record holds Iran's claim alone, not agreed."""
    us, iran = envoys["us"], envoys["iran"]
    run_us = dr.begin(us, "t", own_file("us"), size=SIZE)
    run_iran = dr.begin(iran, "t", own_file("iran"), size=SIZE)
    held: list[Outgoing] = []
    for _ in range(3):
        run_us = dr.step(us, run_us)
        iran.sync()
        run_iran, outs = ds.pump(iran.direct, run_iran)
        if run_iran.learned is not None:
            held = outs  # its own disclosure: sent after its forged signature
            break
        for out in outs:
            iran.driver.send(iran.participant("t"), out)
    words = run_iran.words()
    assert words is not None and run_us.learned is None and held
    forged = json.loads(words)
    forged["settled"] = [{**forged["settled"][0], "low": 1.0, "high": 1.2, "value": 1.1}]
    claim = direct.canonical(forged)
    participant = iran.participant("t")
    iran.act(participant, ev.DirectMatch, session=run_iran.session, other="us", outcome=claim)
    for out in held:
        iran.driver.send(participant, out)
    with pytest.raises(DirectOutcomeDiffers):
        dr.step(us, run_us)
    view = us.participant("t").view
    agreement = view.direct[run_us.session]
    assert agreement.signed == ("iran",) and not agreement.agreed and agreement.outcome == claim
    applied = [codec.decode(h.item.event) for h in us.participant("t").applied()]
    assert not any(isinstance(e, ev.DirectMatch) and e.actor == "witkoff" for e in applied)


def test_a_third_partys_device_is_refused(
    envoys: dict[str, Profile], tmp_path: Path, host: tuple[str, Path]
) -> None:
    """With a third party in the talks, its device's rounds for the US–Iran session are dropped
    (direct.not_in_session); the match between the US and Iran completes unchanged, and its
    signed outcome reaches the two parties' devices only."""
    us, iran = envoys["us"], envoys["iran"]
    uk = make(tmp_path, "uk", host[0])
    try:
        join(us, uk, "uk", "envoy-uk", level=Level.PROPOSE, others=[iran])
        with pytest.raises(DirectUnavailable):
            dr.begin(us, "t", own_file("us"), size=SIZE)  # three parties: name the other
        run_us = dr.begin(us, "t", own_file("us"), size=SIZE, with_party="iran")
        send_rounds(uk, run_us.session, 2, b"{}")
        run_iran = dr.begin(iran, "t", own_file("iran"), size=SIZE, with_party="us")
        run_us, run_iran = play((us, run_us), (iran, run_iran))
        assert dr.finished(run_us) and dr.finished(run_iran)
        assert [d.code for d in us.participant("t").dropped] == ["direct.not_in_session"]
        assert us.participant("t").view.direct[run_us.session].agreed
        uk.sync()
        assert run_us.session not in uk.participant("t").view.direct  # never addressed to it
    finally:
        uk.close()


# --- the wire item -----------------------------------------------------------------------------

sessions = st.text("0123456789abcdef", min_size=32, max_size=32)
items = st.builds(
    lambda s, r, parts, part, payload: Psi(s, r, part % parts, parts, payload),
    sessions,
    st.integers(1, 5),
    st.integers(1, wire.PSI_MAX_PARTS),
    st.integers(0, 10_000),
    st.binary(min_size=1, max_size=512),
)


@settings(max_examples=200, deadline=None)
@given(items)
def test_a_psi_item_round_trips(item: Psi) -> None:
    """Every well-formed Psi item decodes to itself from its one encoding."""
    assert wire.decode(wire.encode([item])) == [item]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"kind": st.just("psi")},
        optional={
            "session": sessions | json_values,
            "round": st.integers(-2, 8) | json_values,
            "part": st.integers(-2, 300) | json_values,
            "parts": st.integers(-2, 300) | json_values,
            "payload": st.binary(max_size=64).map(wire._b64) | json_values,
            "extra": json_values,
        },
    )
)
def test_any_psi_object_decodes_or_is_refused_naming_a_field(raw: dict[str, Any]) -> None:
    """A Psi object decodes to a valid item, or is refused with wire.malformed and a field."""
    payload = json.dumps({"v": 1, "items": [raw]}).encode()
    try:
        (item,) = wire.decode(payload)
    except WireMalformed as exc:
        assert exc.code == "wire.malformed" and exc.field.startswith("items[0]")
        return
    assert isinstance(item, Psi)
    assert 0 <= item.part < item.parts <= wire.PSI_MAX_PARTS and item.round in wire.PSI_ROUNDS
    assert len(item.session) == 32 and item.payload


def test_a_session_the_other_side_never_answers_times_out(envoys: dict[str, Profile]) -> None:
    """Alone, a side waits for the other as long as it was told, then stops with direct.timeout;
    nothing is signed."""
    us = envoys["us"]
    with pytest.raises(DirectTimedOut) as caught:
        dr.run_through(us, "t", own_file("us"), size=SIZE, timeout=1)
    assert caught.value.code == "direct.timeout"
    assert dict(us.participant("t").view.direct) == {}


def test_an_offer_waits_sealed_in_the_profile_until_its_user_answers(
    envoys: dict[str, Profile], tmp_path: Path
) -> None:
    """Iran's device takes the US offer while doing something else; it is kept in the sealed
    state (not answered), survives a reopen, and is answered when Iran's user runs the match."""
    us, iran = envoys["us"], envoys["iran"]
    run_us = dr.begin(us, "t", own_file("us"), size=SIZE)
    iran.sync()
    talks = iran.participant("t").talks_host_id
    assert {h.item.session for h in iran.direct.of(talks)} == {run_us.session}
    assert us.direct.of(talks) == []  # nothing answered it yet
    iran.close()
    reopened = Profile.open(tmp_path / "iran", PASSPHRASE)
    try:
        assert {h.item.session for h in reopened.direct.of(talks)} == {run_us.session}
        run_iran = dr.begin(reopened, "t", own_file("iran"), size=SIZE)
        assert not run_iran.initiator and run_iran.session == run_us.session
        run_us, run_iran = play((us, run_us), (reopened, run_iran))
        assert dr.finished(run_us) and dr.finished(run_iran)
        assert reopened.direct.of(talks) == []
    finally:
        reopened.close()


def test_a_member_without_the_mandate_neither_runs_nor_sends_rounds(
    envoys: dict[str, Profile], tmp_path: Path, host: tuple[str, Path]
) -> None:
    """Larijani observes for Iran: his device may not begin a direct match, and rounds it sends
    are dropped by the US device (mandate.insufficient); the envoys' match is unaffected."""
    us, iran = envoys["us"], envoys["iran"]
    larijani = make(tmp_path, "larijani", host[0])
    try:
        invite = Invite.decode(iran.invite_member("t", "larijani", level=Level.OBSERVE).encode())
        larijani.join(invite)
        settle([iran, larijani, us, iran, larijani])
        with pytest.raises(MandateInsufficient):
            dr.begin(larijani, "t", own_file("iran"), size=SIZE)
        run_us = dr.begin(us, "t", own_file("us"), size=SIZE)
        send_rounds(larijani, run_us.session, 2, b"{}")
        run_iran = dr.begin(iran, "t", own_file("iran"), size=SIZE)
        run_us, run_iran = play((us, run_us), (iran, run_iran))
        assert dr.finished(run_us) and dr.finished(run_iran)
        assert "mandate.insufficient" in [d.code for d in us.participant("t").dropped]
    finally:
        larijani.close()


def test_crossing_offers_settle_on_one_session(envoys: dict[str, Profile]) -> None:
    """Both envoys start a session before seeing the other's offer: the smaller session id
    wins, its initiator stays one, the other answers it; both finish, and no offer is left."""
    us, iran = envoys["us"], envoys["iran"]
    runs = {}
    for name, other in (("us", "iran"), ("iran", "us")):
        participant = envoys[name].participant("t")
        run, outs = ds.start(participant, own_file(name), other=other, size=SIZE)
        for out in outs:
            envoys[name].driver.send(participant, out)
        runs[name] = run
    winner = min(runs.values(), key=lambda r: r.session)
    run_us, run_iran = play((us, runs["us"]), (iran, runs["iran"]))
    assert dr.finished(run_us) and dr.finished(run_iran)
    assert run_us.session == run_iran.session == winner.session
    assert {run_us.initiator, run_iran.initiator} == {True, False}
    for profile in envoys.values():
        profile.sync()
        assert profile.direct.of(profile.participant("t").talks_host_id) == []
        assert profile.participant("t").dropped == []


def test_no_match_is_a_result_nothing_is_disclosed_or_signed(envoys: dict[str, Profile]) -> None:
    """Each side keeps only its unmatched commitment: both finish having learned that nothing
    matched, nothing is disclosed, nothing signed, and neither canary reaches the other."""
    us, iran = envoys["us"], envoys["iran"]
    files = {}
    for name in ("us", "iran"):
        data = own_file(name)
        data["commitments"] = [c for c in data["commitments"] if c["id"] == UNMATCHED[name]]
        files[name] = data
    run_us = dr.begin(us, "t", files["us"], size=SIZE)
    run_iran = dr.begin(iran, "t", files["iran"], size=SIZE)
    run_us, run_iran = play((us, run_us), (iran, run_iran))
    for run in (run_us, run_iran):
        assert dr.finished(run) and run.learned is not None
        assert run.learned.outcome.deal is None and run.learned.disclosed == ()
        assert run.words() is None and not run.signed
    for profile in envoys.values():
        assert dict(profile.participant("t").view.direct) == {}
    assert CANARIES["us"] not in stored(iran) and CANARIES["iran"] not in stored(us)


def test_files_with_other_public_terms_never_match_silently(envoys: dict[str, Profile]) -> None:
    """Iran's file holds another grid for oil exports: its device refuses the US offer with
    psi.wrong_context naming the size or public terms, instead of finding a false "no match"."""
    us, iran = envoys["us"], envoys["iran"]
    dr.begin(us, "t", own_file("us"), size=SIZE)
    other_grid = own_file("iran")
    other_grid["scales"][0]["step"] = 0.5
    dr.begin(iran, "t", other_grid, size=SIZE)
    (refused,) = iran.participant("t").dropped
    assert refused.code == "psi.wrong_context" and "public actions or scales" in refused.message
