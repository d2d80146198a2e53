"""Replaying the reference cases: what each side can read, who initiated, what was refused."""

from __future__ import annotations

from backchannel.replay import describe, replay
from backchannel.scenario import load, loads
from tests.test_scenario import DIRECT, MINIMAL, MUSCAT, line_of


def test_muscat_replays_as_written_with_its_refusals() -> None:
    """Every step of muscat-2024 behaves as the file says, including ten refusals."""
    transcript = replay(load(MUSCAT))
    data = transcript.to_json()
    assert transcript.as_written and data["outcome"]["as_written"]
    assert sorted(r["code"] for r in data["rejections"]) == [
        "escrow.not_matching",
        "escrow.not_own",
        "mandate.insufficient",
        "mandate.insufficient",
        "mandate.insufficient",
        "relay.label_forbids",
        "relay.label_forbids",
        "relay.not_mediator",
        "room.not_member",
        "text.not_pen_holder",
    ]


def test_muscat_visibility_keeps_each_room_apart() -> None:
    """The US never reads Iran's words except what Oman carried; the aside stays with Oman."""
    visibility = replay(load(MUSCAT)).to_json()["visibility"]
    us = {"mcgurk", "us-notetaker"}
    assert visibility["iran-aside"] == ["bagheri", "oman-envoy"]
    assert not us & set(visibility["iran-demand"])
    assert us <= set(visibility["iran-demand-gist"])
    assert us <= set(visibility["iran-offer-carried"])
    assert "oman-envoy" not in visibility["us-internal"]
    assert "bagheri" not in visibility["us-sequencing"]


def test_initiators_of_both_cases() -> None:
    """Muscat: Iran asked first, through Oman. The 2026 channel: Araghchi, directly."""
    muscat = replay(load(MUSCAT)).to_json()["initiator"]
    assert (muscat["party"], muscat["member"], muscat["via"]) == ("iran", "bagheri", "oman")
    direct = replay(load(DIRECT)).to_json()["initiator"]
    assert (direct["party"], direct["member"], direct["via"]) == ("iran", "araghchi", None)
    assert direct["at"] == "2026-03-16T09:00:00+00:00"


def test_direct_channel_principal_replaced() -> None:
    """After the principal's revocation Araghchi is refused until Larijani re-issues his mandate."""
    data = replay(load(DIRECT)).to_json()
    refused = {r["code"] for r in data["rejections"]}
    assert {"mandate.revoked", "mandate.exceeds_grantor", "send.label_forbids"} <= refused
    members = {m["id"]: m["mandate"] for m in data["talks"]["members"]}
    assert members == {
        "us-president": "sign",
        "witkoff": "propose",
        "iran-principal": None,
        "larijani": "sign",
        "araghchi": "propose",
    }


def test_direct_channel_leaves_the_guarantee_clause_bracketed() -> None:
    """CASES.md: the guarantee clause stays bracketed; the channel article, redrafted once, is
    agreed ad referendum by both sides on its second version only."""
    data = replay(load(DIRECT)).to_json()
    assert data["outcome"]["articles"] == {
        "art-channel": "agreed-ad-ref",
        "art-guarantees": "bracketed",
    }
    channel, guarantees = data["text"]
    assert (channel["number"], channel["version"]) == (1, 2)
    assert channel["parties"] == {"iran": "agreed-ad-ref", "us": "agreed-ad-ref"}
    assert [v["author"] for v in channel["versions"]] == ["araghchi", "araghchi"]
    assert guarantees["brackets"] == 2
    assert guarantees["segments"][1] == {
        "alternatives": [
            "as a permanent peace, not a temporary truce",
            "by a cessation of hostilities reviewed after sixty days",
        ]
    }
    assert guarantees["parties"] == {"iran": None, "us": None}
    refused = {r["code"] for r in data["rejections"]}
    assert {"text.bracketed", "text.stale", "text.awaiting_parties"} <= refused


def test_unexpected_outcomes_are_reported() -> None:
    """A step refused unexpectedly, or accepted while expecting an error, is not as written."""
    refused = replay(loads(MINIMAL.replace('room = "a-caucus"', 'room = "nowhere"')))
    assert not refused.as_written
    assert refused.to_json()["outcome"]["unexpected"] == [
        {
            "step": 1,
            "line": line_of(MINIMAL, "[[steps]]"),
            "expected": None,
            "got": "entity.unknown",
        }
    ]
    accepted = replay(loads(MINIMAL + 'expect_error = "mandate.insufficient"\n'))
    assert not accepted.as_written
    assert accepted.to_json()["rejections"] == []


CONSENT = """\
[talks]
id = "t"
start = 2024-01-10T09:00:00+04:00

[[parties]]
id = "a"

[[parties]]
id = "b"

[[parties]]
id = "m"
role = "mediator"

[[members]]
id = "a1"
party = "a"
mandate = "propose"

[[members]]
id = "b1"
party = "b"
mandate = "accept"

[[members]]
id = "m1"
party = "m"
mandate = "speak"

[[rooms]]
id = "plenary"
kind = "plenary"
members = ["a1", "b1", "m1"]

[[steps]]
at = 2024-01-10T10:00:00+04:00
actor = "a1"
action = "propose"
id = "offer"
room = "plenary"
label = "carry-verbatim"
text = "X if Y"

[[steps]]
at = 2024-01-10T10:05:00+04:00
actor = "b"
action = "confirm"
proposal = "offer"
expect_error = "confirm.not_accepted"

[[steps]]
at = 2024-01-10T10:10:00+04:00
actor = "b1"
action = "accept"
proposal = "offer"

[[steps]]
at = 2024-01-10T10:15:00+04:00
actor = "b1"
action = "confirm"
proposal = "offer"
expect_error = "mandate.insufficient"

[[steps]]
at = 2024-01-10T10:20:00+04:00
actor = "b"
action = "confirm"
proposal = "offer"

[[steps]]
at = 2024-01-10T10:25:00+04:00
actor = "b"
action = "confirm"
proposal = "offer"
expect_error = "confirm.duplicate"
"""


def test_a_root_confirms_its_members_acceptance_in_a_scenario() -> None:
    """confirm steps: refused before the acceptance, by a member and a second time; the root's
    own confirmation after b1's acceptance puts b:offer among the confirmed."""
    transcript = replay(loads(CONSENT))
    data = transcript.to_json()
    assert transcript.as_written, data["outcome"]["unexpected"]
    assert [e["action"] for e in data["events"]].count("confirm") == 4
    assert data["outcome"]["accepted_ad_ref"] == ["b:offer"]
    assert data["outcome"]["confirmed"] == ["b:offer"]
    assert [describe(s.event) for s in transcript.scenario.steps][-1] == "offer"
