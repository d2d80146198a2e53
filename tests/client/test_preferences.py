"""Private preferences through real devices and a real host: each party's scores stay with the
mediator and the party itself, every device knows who scored, and the mediator's device analyses
what it holds exactly as ``backchannel analyze`` analyses the same problem file."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from backchannel.client import bundle
from backchannel.client.simulation import run, temporary_host
from backchannel.engine import analysis as an
from backchannel.engine import events as ev
from backchannel.engine import preferences, scores
from backchannel.scenario import load
from tests.client.malicious import forge
from tests.client.test_deposits import through_host
from tests.test_scenario import MUSCAT

PREFERENCES = MUSCAT.with_name("muscat-2024-preferences.toml")
PROBLEM = MUSCAT.with_name("muscat-2024.preferences.json")

#: Put into Iran's private note, which travels inside Iran's scores and nowhere else.
SEALED = "zq9sealed-iran-scoring"


def canaried(tmp_path: Path) -> Path:
    """A copy of the preferences scenario whose problem file gives Iran a note holding SEALED."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(PREFERENCES, folder / PREFERENCES.name)
    data = json.loads(PROBLEM.read_text(encoding="utf-8"))
    (iran,) = [p for p in data["parties"] if p["id"] == "iran"]
    iran["note"] = f"{SEALED}: we could live with a pause if the sequencing is simultaneous"
    (folder / PROBLEM.name).write_text(json.dumps(data), encoding="utf-8")
    return folder / PREFERENCES.name


def side_of(participant: object) -> str:
    """The party a participant's device acts for (a member's party, or a root's own)."""
    view = participant.view  # type: ignore[attr-defined]
    me = participant.me  # type: ignore[attr-defined]
    if me in view.parties:
        return str(me)
    return str(view.members[me].party)


def test_a_party_s_scores_reach_no_other_party_nor_the_host(tmp_path: Path) -> None:
    """Iran's scores (its note as canary): in the Omani and Iranian devices' stores, never in a
    US device's store or view, nor in the host's database; every device knows both sides scored
    the current agenda, and only Oman's devices can analyse."""
    stacked, scanned = through_host(canaried(tmp_path), tmp_path / "host")
    data = stacked.to_json()
    assert data["outcome"]["as_written"], data["outcome"]["unexpected"]
    assert data["stack"]["dropped"] == [] and data["stack"]["record"]["alarms"] == []
    assert data["outcome"]["preferences"] == {
        "agenda": 1,
        "submitted": {"us": True, "iran": True},
    }
    assert len(scanned) > 10_000 and SEALED.encode() not in scanned
    holders: set[str] = set()
    for participant in stacked.participants.values():
        side = side_of(participant)
        view = participant.view
        stored = json.dumps(participant.snapshot(), ensure_ascii=False)
        if SEALED in stored:
            holders.add(side)
        assert preferences.submitted(view) == {"us": True, "iran": True}, participant.me
        assert view.agenda is not None and len(view.agenda.issues) == 4
        if side == "us":
            assert SEALED not in repr(view)
            assert view.submissions["iran"].sealed
            assert preferences.analysis(view) is None
        if side == "oman" and participant.me != "oman":
            assert preferences.analysis(view) is not None
    assert holders == {"iran", "oman"}


def test_the_mediator_s_analysis_is_the_file_mode_s(tmp_path: Path) -> None:
    """Oman's device, over the scores it received through the host, finds the frontier, Nash and
    Kalai–Smorodinsky points ``backchannel analyze`` finds over the same problem file."""
    stacked, _ = through_host(PREFERENCES, tmp_path)
    (envoy,) = [p for p in stacked.participants.values() if p.me == "oman-envoy"]
    found = preferences.analysis(envoy.view)
    assert found is not None
    problem = an.loads(PROBLEM.read_text(encoding="utf-8"))
    frontier = an.pareto_frontier(problem)
    expected = an.report(problem, frontier, an.solve(problem, frontier))
    for key in ("nash", "kalai_smorodinsky"):
        assert found[key]["package"] == expected[key]["package"], key
    assert [p["package"] for p in found["frontier"]] == [p["package"] for p in expected["frontier"]]
    assert found["adjusted_winner"]["parties"] == ["us", "iran"]


def test_forged_preference_acts_are_refused_by_every_device(tmp_path: Path) -> None:
    """A US device submitting Iran's scores (prefs.not_own) and an Iranian device setting the
    agenda (prefs.not_mediator), past their own engines: every other device refuses both at
    their place; the agenda stays at version 1 and the US's submissions are its one honest one."""
    with temporary_host(f"sqlite:///{tmp_path / 'host.db'}") as url:
        stacked = run(load(PREFERENCES), url)
        us_host, us = next((h, p) for h, p in stacked.participants.items() if p.me == "mcgurk")
        iran_host, iran = next((h, p) for h, p in stacked.participants.items() if p.me == "bagheri")
        at = us.view.clock or datetime.now(UTC)
        problem = json.loads(PROBLEM.read_text(encoding="utf-8"))
        theirs = scores.dumps(scores.from_problem(problem, "iran"))
        forged = ev.SubmitScores(
            at=at, actor="mcgurk", device=us.engine_device, version=1, scores=theirs
        )
        forge(stacked.drivers[us_host], us, forged)
        agenda = ev.SetAgenda(
            at=at, actor="bagheri", device=iran.engine_device, agenda=json.dumps(problem)
        )
        forge(stacked.drivers[iran_host], iran, agenda)
        for host_id, participant in stacked.participants.items():
            before = len(participant.dropped)
            stacked.sync(host_id)
            codes = sorted(d.code for d in participant.dropped[before:])
            if participant.me not in {"mcgurk", "bagheri"}:
                assert codes == ["prefs.not_mediator", "prefs.not_own"], participant.me
            view = participant.view
            assert view.agenda is not None and view.agenda.version == 1
            # The forged submission counted nowhere: the US scored once, in the scenario.
            assert view.submissions["us"].count == 1, participant.me
        stacked.close()


def test_the_record_of_the_scoring_verifies_with_and_without_content(tmp_path: Path) -> None:
    """The mediator's record bundle verifies offline: with content it holds each submission
    (Iran's note among them); exported without content, no byte of the scores, and it still
    verifies, each submission sealed."""
    with temporary_host(f"sqlite:///{tmp_path / 'host.db'}") as url:
        stacked = run(load(canaried(tmp_path)), url)
        envoy = next(p for p in stacked.participants.values() if p.me == "oman-envoy")
        full = bundle.export(envoy, with_content=True)
        sealed = bundle.export(envoy)
        stacked.close()
    verified = bundle.verify(full)
    submitted = [a.event for a in verified.acts if isinstance(a.event, ev.SubmitScores)]
    assert [e.actor for e in submitted] == ["mcgurk", "bagheri"]
    assert SEALED in json.dumps(full) and SEALED not in json.dumps(sealed)
    assert bundle.verify(sealed).size == verified.size
