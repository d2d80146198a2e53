"""Record bundles: exported by a real device after a replay through a real host, verified offline.

"Who initiated" must come out of the file alone; any changed byte must fail with its reason; a
forged, a re-bound and a revoked-then-used mandate are refused; a root's confirmation shows as the
offer's 'confirmed' stage only when its token carries that root's confirms block.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backchannel import authority
from backchannel.client import bundle
from backchannel.client.simulation import run, temporary_host
from backchannel.crypto.signed import Identity
from backchannel.engine import events as ev
from backchannel.engine.rules import Level
from backchannel.errors import BundleInvalid
from backchannel.scenario import load
from tests.client.consent import OFFER, accepted_offer, sync

SCENARIOS = Path(__file__).parents[2] / "scenarios"


@pytest.fixture(scope="module", params=["muscat-2024", "direct-channel-2026"])
def replayed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(the bundle as the mediator or first party exports it, the transcript's JSON)."""
    scratch = tmp_path_factory.mktemp("bundle")
    scenario = load(SCENARIOS / f"{request.param}.toml")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        stacked = run(scenario, url)
        data = stacked.export_record()
        stacked.close()
    yield data, stacked.transcript.to_json()


def test_the_bundle_alone_says_who_initiated(
    replayed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data, transcript = replayed
    verified = bundle.loads(bundle.dumps(data))
    assert transcript["initiator"] is not None
    assert verified.initiator() == transcript["initiator"]
    assert verified.to_json()["initiator"] == transcript["initiator"]


def test_every_members_formal_act_names_its_mandate_chain(
    replayed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    verified = bundle.verify(data := replayed[0])
    assert verified.size == len(data["log"]["entries"])
    assert verified.sealed == verified.size - len(data["events"])
    members = [a for a in verified.acts if a.event.actor != a.party]
    assert members, "a replay has acts by members"
    for act in members:
        assert act.mandate is not None
        assert act.mandate.last.member == act.event.actor
        assert act.mandate.party == act.party


@pytest.fixture(scope="module")
def with_content(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Muscat bundle exported with the messages the mediator can open."""
    scratch = tmp_path_factory.mktemp("bundle-content")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        stacked = run(load(SCENARIOS / "muscat-2024.toml"), url)
        data = stacked.export_record(with_content=True)
        stacked.close()
    return data


def test_words_to_carry_verbatim_are_signed_and_others_are_not(
    with_content: dict[str, Any],
) -> None:
    """A carry-verbatim message verifies by its author's signature; stripping that signature, or
    signing deniable words, fails."""
    verified = bundle.verify(with_content)
    sends = [e for e in with_content["events"] if e["event"]["action"] == "send"]
    verbatim = next(e for e in sends if e["event"]["label"] == "carry-verbatim")
    deniable = next(e for e in sends if e["event"]["label"] != "carry-verbatim")
    assert verbatim["signature"] is not None and deniable["signature"] is None
    assert verified.size == len(with_content["log"]["entries"])
    for entry, signature in ((verbatim, None), (deniable, verbatim["signature"])):
        tampered = json.loads(bundle.dumps(with_content))
        index = with_content["events"].index(entry)
        tampered["events"][index]["signature"] = signature
        with pytest.raises(BundleInvalid):
            bundle.verify(tampered)


def test_messages_are_sealed_unless_exported_with_content(
    replayed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data, transcript = replayed
    actions = {e["event"]["action"] for e in data["events"]}
    assert not actions & {"send", "propose", "relay", "carry", "draft_article"}
    assert "request_contact" in actions
    if transcript["outcome"]["articles"].get("art-channel") == "agreed-ad-ref":
        assert "agree_article" in actions  # a consent names article and version, not words


@pytest.fixture(scope="module")
def direct_text(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The direct channel's bundle with content: the negotiating text's drafts opened."""
    scratch = tmp_path_factory.mktemp("bundle-text")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        stacked = run(load(SCENARIOS / "direct-channel-2026.toml"), url)
        data = stacked.export_record(with_content=True)
        stacked.close()
    return data


def test_every_version_of_the_text_is_signed_by_its_drafter(direct_text: dict[str, Any]) -> None:
    """Each draft verifies by its drafter's signature and 'propose' mandate; each consent names
    the version it agreed; a draft stripped of its signature fails."""
    verified = bundle.verify(direct_text)
    drafts = [a for a in verified.acts if isinstance(a.event, ev.DraftArticle)]
    assert [(a.event.actor, a.to_json()["article"]) for a in drafts] == [
        ("araghchi", "art-channel"),
        ("witkoff", "art-guarantees"),
        ("araghchi", "art-channel"),
    ]
    assert all(a.mandate is not None and a.mandate.last.level >= Level.PROPOSE for a in drafts)
    agreed = [a.to_json() for a in verified.acts if isinstance(a.event, ev.AgreeArticle)]
    assert [(a["party"], a["version"], a["stage"]) for a in agreed] == [
        ("us", 2, "agreed-ad-ref"),
        ("iran", 2, "agreed-ad-ref"),
    ]
    tampered = json.loads(bundle.dumps(direct_text))
    index = next(
        i for i, e in enumerate(tampered["events"]) if e["event"]["action"] == "draft_article"
    )
    tampered["events"][index]["signature"] = None
    with pytest.raises(BundleInvalid):
        bundle.verify(tampered)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_changed_byte_fails(
    replayed: tuple[dict[str, Any], dict[str, Any]], data: st.DataObject
) -> None:
    raw = bytearray(bundle.dumps(replayed[0]))
    # Draws of one shape whatever the file's length: the two scenarios share one test database.
    position = data.draw(st.integers(0, 2**32), label="position") % len(raw)
    raw[position] = (raw[position] + data.draw(st.integers(1, 255), label="change")) % 256
    with pytest.raises(BundleInvalid) as failure:
        bundle.loads(bytes(raw))
    assert failure.value.code == "record.bundle_invalid"
    assert failure.value.message


def _first_delegated_grant(data: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in data["events"] if e["mandate"] and e["event"]["actor"] != "us")


def test_a_token_from_another_key_is_forged(
    replayed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data = json.loads(json.dumps(replayed[0]))
    entry = _first_delegated_grant(data)
    grant = entry["event"]
    entry["mandate"] = authority.issue(
        Identity.generate(),
        talks=data["talks_host_id"],
        party="us",
        grant=grant["grant"],
        member=grant["member"],
        level=Level.parse(grant["level"]),
        holder=Identity.generate().public_key,
    )
    with pytest.raises(BundleInvalid, match=rf"entry {entry['index']}.*mandate.forged"):
        bundle.verify(data)


def test_a_dropped_grant_leaves_its_holders_acts_unmandated(
    replayed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data = json.loads(json.dumps(replayed[0]))
    grants = [e for e in data["events"] if e["event"]["action"] == "grant"]
    data["events"] = [e for e in data["events"] if e not in grants]
    with pytest.raises(BundleInvalid, match=r"holds no mandate.*mandate\.insufficient"):
        bundle.verify(data)


def test_a_checkpoint_from_another_log_key_fails(
    replayed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data = json.loads(json.dumps(replayed[0]))
    other = json.loads(json.dumps(replayed[0]))
    data["log"]["entries"] = data["log"]["entries"][:-1]
    with pytest.raises(BundleInvalid, match="do not hash"):
        bundle.verify(data)
    other["format"] = "something-else"
    with pytest.raises(BundleInvalid, match="not a"):
        bundle.verify(other)


# --- a root's confirmation ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def confirmed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, Any], Identity]]:
    """(the convener's bundle after the US root confirmed McGurk's acceptance, the US root key).

    The convener's: the others hold the convener's earliest acts only as forwarded copies,
    without the salts that open them, so their bundles cannot show the envoy's first mandate.
    """
    with accepted_offer(tmp_path_factory.mktemp("confirmed")) as people:
        us = people["us"]
        us.act(us.talks["t"], ev.Confirm, actor="us", proposal=OFFER)
        sync(people)
        yield bundle.export(people["oman"].talks["t"]), us.identity


def _entry(data: dict[str, Any], action: str) -> dict[str, Any]:
    return next(e for e in data["events"] if e["event"]["action"] == action)


def test_the_timeline_shows_the_offer_confirmed(
    confirmed: tuple[dict[str, Any], Identity],
) -> None:
    """In the verified bundle McGurk's acceptance is agreed-ad-ref, and the US root's
    confirmation of it is 'confirmed', by the root, naming McGurk."""
    timeline = bundle.loads(bundle.dumps(confirmed[0])).to_json()["timeline"]
    stages = [(a["actor"], a["stage"], a["proposal"]) for a in timeline if "stage" in a]
    assert stages == [("mcgurk", "agreed-ad-ref", OFFER), ("us", "confirmed", OFFER)]
    act = next(a for a in timeline if a["action"] == "confirm")
    assert (act["party"], act["mandate"], act["confirms"]) == ("us", "root", "mcgurk")


def _mcgurk_token(data: dict[str, Any]) -> str:
    grant = next(e for e in data["events"] if e["event"].get("member") == "mcgurk" and e["mandate"])
    return str(grant["mandate"])


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda data, root: None, "without a token"),
        (lambda data, root: _mcgurk_token(data), "carries no confirmation"),
        (
            lambda data, root: authority.confirm(
                _mcgurk_token(data), root.public_key, Identity.generate(), OFFER
            ),
            "mandate.forged",
        ),
        (
            lambda data, root: authority.confirm(
                _mcgurk_token(data), root.public_key, root, "another-offer"
            ),
            "carries no confirmation",
        ),
    ],
    ids=["no token", "no confirms block", "a stranger's block", "another offer"],
)
def test_a_confirmation_without_the_roots_block_fails(
    confirmed: tuple[dict[str, Any], Identity], forge: Any, reason: str
) -> None:
    """The confirmation's token replaced by none, McGurk's plain token, one confirmed by another
    key, or one confirming another offer: record.bundle_invalid naming the entry."""
    data = json.loads(json.dumps(confirmed[0]))
    entry = _entry(data, "confirm")
    entry["mandate"] = forge(data, confirmed[1])
    with pytest.raises(BundleInvalid, match=rf"entry {entry['index']}.*{reason}") as failure:
        bundle.verify(data)
    assert failure.value.code == "record.bundle_invalid"


def test_a_confirmation_of_no_recorded_acceptance_fails(
    confirmed: tuple[dict[str, Any], Identity],
) -> None:
    """Without McGurk's acceptance in the file, the confirmation confirms nothing it shows."""
    data = json.loads(json.dumps(confirmed[0]))
    data["events"].remove(_entry(data, "accept"))
    with pytest.raises(
        BundleInvalid, match=r"no member of us accepted 'offer'.*confirm\.not_accepted"
    ):
        bundle.verify(data)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_any_changed_character_of_the_confirmation_token_fails(
    confirmed: tuple[dict[str, Any], Identity], data: st.DataObject
) -> None:
    """Each character of the confirmation's token counts: changed, the bundle does not verify."""
    bundled = json.loads(json.dumps(confirmed[0]))
    entry = _entry(bundled, "confirm")
    token = str(entry["mandate"])
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="
    char = data.draw(st.sampled_from(alphabet).filter(lambda c: c != token[position]))
    entry["mandate"] = token[:position] + char + token[position + 1 :]
    with pytest.raises(BundleInvalid, match=rf"entry {entry['index']}"):
        bundle.verify(bundled)


@pytest.mark.parametrize("collecting", [True, False])
def test_verifying_leaves_the_cycle_collector_as_it_was(collecting: bool) -> None:
    """Verification pauses Python's cycle collector for speed and restores it, whether the
    bundle verifies or not, and never turns on a collector its caller had turned off."""
    was = gc.isenabled()
    try:
        (gc.enable if collecting else gc.disable)()
        with pytest.raises(BundleInvalid):
            bundle.loads(b'{"format":"not a bundle"}\n')
        assert gc.isenabled() is collecting
        with pytest.raises(BundleInvalid):
            bundle.verify({"format": bundle.FORMAT})
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()
