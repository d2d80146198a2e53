"""``backchannel analyze``: JSON contract, pictures, improvements, Adjusted Winner, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_simulate import run
from tests.test_scenario import ROOT

EXAMPLES = ROOT / "examples" / "analysis"
KEYS = {"size", "frontier", "nash", "kalai_smorodinsky", "egalitarian", "max_joint_gain", "no_zopa"}


def test_json_contract() -> None:
    """--json prints the documented keys with the right shapes."""
    result = run("analyze", str(EXAMPLES / "muscat.json"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= KEYS
    assert data["size"] == 81 and data["no_zopa"] is False
    assert set(data["frontier"][0]) == {"utilities", "package", "count"}
    assert set(data["nash"]) >= {"utilities", "package"}


def test_three_parties_with_constraints() -> None:
    """Three parties and a forbidden pair work; the forbidden pair never appears on the frontier."""
    data = json.loads(run("analyze", str(EXAMPLES / "three-party.json"), "--json").stdout)
    assert len(data["parties"]) == 3 and data["size"] == 81 - 9
    for point in data["frontier"]:
        assert not (
            point["package"]["upstream_share"] == "50"
            and point["package"]["downstream_share"] == "40"
        )


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_a_picture(tmp_path: Path, suffix: str) -> None:
    """--plot writes a non-empty PNG or SVG."""
    path = tmp_path / f"frontier{suffix}"
    result = run("analyze", str(EXAMPLES / "muscat.json"), "--plot", str(path))
    assert result.returncode == 0, result.stderr
    head = path.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in path.read_bytes()[:2000]
    assert path.stat().st_size > 1000 and head


def test_improvements_from_a_tentative_agreement() -> None:
    """--from lists frontier points better for one and no worse for the other."""
    result = run(
        "analyze",
        str(EXAMPLES / "muscat.json"),
        "--json",
        "--from",
        "gaza_ceasefire=pause,red_sea_attacks=halved,bases_iraq_syria=halved,"
        "sequencing=simultaneous",
    )
    data = json.loads(result.stdout)
    base = data["from"]["utilities"]
    assert data["improvements"]
    for point in data["improvements"]:
        assert all(u >= b for u, b in zip(point["utilities"], base, strict=True))


def test_adjusted_winner_method() -> None:
    """--method adjusted-winner prints the allocation, the split issue and equal points."""
    data = json.loads(
        run(
            "analyze",
            str(EXAMPLES / "adjusted-winner.json"),
            "--method",
            "adjusted-winner",
            "--json",
        ).stdout
    )
    assert data["split"]["issue"] == "prisoner_release"
    assert data["split"]["fraction_to"] == {"us": "4/9", "iran": "5/9"}
    assert data["points"]["us"] == data["points"]["iran"]


def test_bad_files_exit_2(tmp_path: Path) -> None:
    """A malformed problem exits 2 and names the field; a bad --from too."""
    bad = tmp_path / "bad.json"
    document = json.loads((EXAMPLES / "muscat.json").read_text(encoding="utf-8"))
    del document["parties"][1]["values"]["sequencing"]
    bad.write_text(json.dumps(document), encoding="utf-8")
    result = run("analyze", str(bad), "--json")
    assert result.returncode == 2
    assert "parties[1].values.sequencing" in json.loads(result.stdout)["error"]["message"]
    result = run("analyze", str(EXAMPLES / "muscat.json"), "--from", "gaza_ceasefire=forever")
    assert result.returncode == 2 and "gaza_ceasefire" in result.stderr


def test_a_points_file_is_adjusted_winner_without_being_told() -> None:
    """The file says what it is: every party gives points, so Adjusted Winner, not a refusal."""
    result = run("analyze", str(EXAMPLES / "adjusted-winner.json"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["split"]["issue"] == "prisoner_release"


def test_plot_with_adjusted_winner_is_refused_and_says_why(tmp_path: Path) -> None:
    picture = tmp_path / "aw.png"
    result = run("analyze", str(EXAMPLES / "adjusted-winner.json"), "--plot", str(picture))
    assert result.returncode == 2
    assert "no frontier to draw" in result.stderr and "leave out --plot" in result.stderr
    assert not picture.exists()


def test_the_human_output_says_where_the_plot_went(tmp_path: Path) -> None:
    picture = tmp_path / "f.svg"
    result = run("analyze", str(EXAMPLES / "muscat.json"), "--plot", str(picture))
    assert result.returncode == 0, result.stderr
    assert f"Plot written to {picture}" in result.stdout.replace("\n", "")
    assert picture.stat().st_size > 0


def test_three_parties_are_drawn_two_at_a_time_as_points(tmp_path: Path) -> None:
    """One panel per pair, and no line joining frontier points (no curve in three dimensions)."""
    picture = tmp_path / "three.svg"
    assert (
        run("analyze", str(EXAMPLES / "three-party.json"), "--plot", str(picture)).returncode == 0
    )
    svg = picture.read_text(encoding="utf-8")
    assert "upstream and downstream" in svg and "downstream and midstream" in svg
    assert "two at a time (points only)" in svg
