"""``backchannel match``: the shipped escrow files, the sealed party view, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_simulate import run
from tests.engine.test_escrow import MUSCAT, RECIPROCAL


def test_muscat_no_match_is_a_result() -> None:
    """The muscat escrow exits 0 with no match, the unmet actions and the deadlock."""
    result = run("match", str(MUSCAT), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"matched", "plan", "sealed", "unmet", "deadlock", "settlements", "view"} <= set(data)
    assert data["matched"] == [] and data["view"] == "mediator"
    human = run("match", str(MUSCAT))
    assert "No match" in human.stdout and "Each side's step waits" in human.stdout


def test_reciprocal_variant_as_a_party() -> None:
    """The US view of the reciprocal variant shows the match and the simultaneous stage."""
    result = run("match", str(RECIPROCAL), "--as", "us", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["view"] == "us"
    assert data["plan"][0]["simultaneous"] is True and data["plan"][0]["verified_by"] == "oman"


def test_party_view_of_muscat_hides_the_other_side() -> None:
    """Iran's view of the muscat escrow shows its own commitment and only a count for the US."""
    data = json.loads(run("match", str(MUSCAT), "--as", "iran", "--json").stdout)
    assert [c["id"] for c in data["commitments"]] == ["iran-halving-if-ceasefire"]
    assert data["sealed"]["us"] == 1
    assert "us-restraint-first" not in json.dumps(data)
    assert "restrain_groups" not in json.dumps(data)


def test_bad_files_exit_2(tmp_path: Path) -> None:
    """Malformed JSON and unknown parties exit 2 with the field or line named."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"actions": [}', encoding="utf-8")
    result = run("match", str(bad), "--json")
    assert result.returncode == 2
    assert "line 1, column" in json.loads(result.stdout)["error"]["message"]
    result = run("match", str(MUSCAT), "--as", "qatar")
    assert result.returncode == 2 and "qatar" in result.stderr


def test_a_file_with_nothing_to_match_exits_2(tmp_path: Path) -> None:
    """An escrow without commitments is an input error naming the field, not "No match"."""
    for document in ({"parties": []}, {"parties": ["a", "b"], "actions": []}):
        empty = tmp_path / "empty.json"
        empty.write_text(json.dumps(document), encoding="utf-8")
        result = run("match", str(empty), "--json")
        assert result.returncode == 2, result.stdout
        error = json.loads(result.stdout)["error"]
        assert error["code"] == "escrow.invalid" and "commitments" in error["message"]


def test_a_party_named_only_by_its_action_may_view(tmp_path: Path) -> None:
    """A party that appears only as an action's ``by`` (no parties list, no commitment of its
    own) is still a party whose view ``--as`` shows: the commitment that asks of it."""
    document = {
        "actions": [
            {"id": "ceasefire", "by": "south"},
            {"id": "withdraw", "by": "north"},
        ],
        "commitments": [
            {"id": "north-withdraws", "party": "north", "gives": ["withdraw"],
             "requires": "ceasefire"},
        ],
    }  # fmt: skip
    escrow = tmp_path / "escrow.json"
    escrow.write_text(json.dumps(document), encoding="utf-8")
    result = run("match", str(escrow), "--as", "south", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["view"] == "south" and data["matched"] == []
    assert "north-withdraws" not in json.dumps(data)  # sealed: only counts reach another party


DIRECT = MUSCAT.parent / "direct-channel-2026.escrow.json"


def test_direct_match_prints_what_each_side_learned() -> None:
    """``--direct`` runs both sides' PSI: each sees the match and settlement, never the other's
    sealed commitments; ``--as`` keeps one side; an unscaled term exits 2 with its code."""
    result = run("match", str(DIRECT), "--direct", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    us, iran = data["sides"]["us"], data["sides"]["iran"]
    assert us["own_matched"] == ["us-guarantee-if-peace"]
    assert [c["id"] for c in us["disclosed_by_other"]] == [
        "iran-peace-if-guaranteed",
        "iran-authority-if-guaranteed",
    ]
    assert us["settlements"][0]["value"] == iran["settlements"][0]["value"] == 1.25
    assert us["learned_sizes"]["other_set_size"] == 1024
    assert "SEALED-IRAN-CANARY" not in json.dumps(us) and "SEALED-US-CANARY" not in json.dumps(iran)
    one = json.loads(run("match", str(DIRECT), "--direct", "--as", "iran", "--json").stdout)
    assert list(one["sides"]) == ["iran"]
    human = run("match", str(DIRECT), "--direct")
    assert "what us learned" in human.stdout and "what iran learned" in human.stdout
    unscaled = run("match", str(MUSCAT), "--direct", "--json")
    assert unscaled.returncode == 2
    assert json.loads(unscaled.stdout)["error"]["code"] == "direct.term_unscaled"
