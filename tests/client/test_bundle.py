"""Record bundles: exported by a real device after a replay through a real host, verified offline.

"Who initiated" must come out of the file alone; any changed byte must fail with its reason; a
forged, a re-bound and a revoked-then-used mandate are refused.
"""

from __future__ import annotations

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
from backchannel.engine.rules import Level
from backchannel.errors import BundleInvalid
from backchannel.scenario import load

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


def test_messages_are_sealed_unless_exported_with_content(
    replayed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data, _ = replayed
    actions = {e["event"]["action"] for e in data["events"]}
    assert not actions & {"send", "propose", "relay", "carry"}
    assert "request_contact" in actions


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_changed_byte_fails(
    replayed: tuple[dict[str, Any], dict[str, Any]], data: st.DataObject
) -> None:
    raw = bytearray(bundle.dumps(replayed[0]))
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]), label="byte")
    raw[position] = value
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
        talks=data["talks"],
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
    with pytest.raises(BundleInvalid, match="without any mandate"):
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
