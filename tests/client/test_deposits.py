"""The escrow through real devices and a real host: sealed deposits stay with the mediator and
their own party, every device counts them, and a reciprocal pair matches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from backchannel.client.simulation import StackRun, run, temporary_host
from backchannel.engine.rules import DepositStatus
from backchannel.scenario import load
from tests.test_scenario import MUSCAT

RECIPROCAL = MUSCAT.with_name("muscat-2024-reciprocal.toml")

#: Put into Iran's commitment (its description and the action it gives): it never matches.
SEALED = "zq9sealed-halving"


def through_host(path: Path, tmp_path: Path) -> tuple[StackRun, bytes]:
    """``path`` replayed through a host on SQLite in ``tmp_path``; the run and the database's
    raw bytes (every file of it)."""
    database = tmp_path / "host.db"
    with temporary_host(f"sqlite:///{database}") as url:
        stacked = run(load(path), url)
        stacked.close()
    scanned = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("host.db"))
    return stacked, scanned


def canaried_muscat(tmp_path: Path) -> Path:
    """A copy of the Muscat scenario whose escrow file marks Iran's commitment with SEALED."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(MUSCAT, folder / MUSCAT.name)
    escrow_file = MUSCAT.with_name("muscat-2024.escrow.json")
    data = json.loads(escrow_file.read_text(encoding="utf-8"))
    (iran,) = [c for c in data["commitments"] if c["party"] == "iran"]
    iran["description"] = f"{SEALED}: {iran['description']}"
    for action in data["actions"]:
        if action["id"] in iran["gives"]:  # the US's own deposit names Iran's other action
            action["description"] = f"{SEALED} {action['description']}"
    (folder / escrow_file.name).write_text(json.dumps(data), encoding="utf-8")
    return folder / MUSCAT.name


def test_an_unmatched_commitment_reaches_no_other_party_nor_the_host(tmp_path: Path) -> None:
    """Iran's unmatched commitment: in the Omani and Iranian devices' stores, never in any US
    device's store nor the host's database; every device, a root's too, counts one open deposit
    per side."""
    stacked, scanned = through_host(canaried_muscat(tmp_path), tmp_path / "host")
    data = stacked.to_json()
    assert data["outcome"]["as_written"], data["outcome"]["unexpected"]
    assert data["stack"]["dropped"] == [] and data["stack"]["record"]["alarms"] == []
    assert len(scanned) > 10_000 and SEALED.encode() not in scanned
    holders: set[str] = set()
    for participant in stacked.participants.values():
        stored = json.dumps(participant.snapshot(), ensure_ascii=False)
        party = participant.view.parties.get(participant.me)
        member = participant.view.members.get(participant.me)
        side = party.id if party is not None else member.party if member is not None else ""
        if SEALED in stored:
            holders.add(side)
        assert participant.view.sealed_counts() == {"us": 1, "iran": 1, "oman": 0}
        if side == "us":
            assert SEALED not in stored and SEALED not in repr(participant.view)
        if side == "us":
            assert participant.view.deposits["iran-halving-if-ceasefire"].sealed
    assert holders == {"iran", "oman"}


def test_the_reciprocal_variant_matches_through_the_host(tmp_path: Path) -> None:
    """Deposited through the talks, the reciprocal pair matches: the mediator's announcement is
    accepted by every device, with one simultaneous stage verified by Oman, and reveals each
    side's commitment to the other."""
    stacked, _ = through_host(RECIPROCAL, tmp_path)
    data = stacked.to_json()
    assert data["outcome"]["as_written"], data["outcome"]["unexpected"]
    assert data["stack"]["dropped"] == [] and data["stack"]["record"]["alarms"] == []
    match = data["outcome"]["escrow"]["matches"]["muscat-match"]
    assert match["plan"] == [
        {
            "actions": ["iran.halve_attacks", "us.gaza_ceasefire"],
            "simultaneous": True,
            "verified_by": "oman",
        }
    ]
    assert match["settled"][0]["value"] == 75.0
    for participant in stacked.participants.values():
        view = participant.view
        assert view.matches["muscat-match"].deposits == tuple(match["deposits"])
        assert {d.status for d in view.deposits.values()} == {DepositStatus.MATCHED}
        # The match revealed each matched commitment to every party concerned.
        assert all(not d.sealed for d in view.deposits.values()), participant.me
