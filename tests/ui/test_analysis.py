"""The Analysis page's API over real apps: it answers exactly what the engine (and so
``analyze --json``) gives, and a malformed problem is a 400 problem naming the field, with
nothing else. (The Escrow page's, over the talks' own deposits: ``tests/ui/test_escrow.py``.)
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from backchannel.cli import app as cli
from backchannel.engine import analysis as an
from tests.test_scenario import ROOT
from tests.ui.conftest import App
from tests.ui.test_api import STATIC

pytestmark = pytest.mark.xdist_group("ui")

EXAMPLES = ROOT / "examples" / "analysis"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
ROUTES = ["/api/analysis"]
runner = CliRunner()


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def post(app: App, path: str, body: Any) -> httpx.Response:
    with app.client() as client:
        return client.post(path, json=body)


#: The media type every POST to the app must declare.
JSON = {"content-type": "application/json"}


def cli_json(*args: str) -> Any:
    """What the CLI prints with ``--json`` (a problem's own commands need no profile)."""
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(response: httpx.Response, code: str, field: str) -> str:
    """A 400 problem document with ``code`` whose detail starts with ``field``, and nothing else."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) == PROBLEM_KEYS
    assert problem["code"] == code
    assert problem["detail"].startswith(field + ": "), problem["detail"]
    return str(problem["detail"])


def pareto(data: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer for a problem, through JSON as the app sends it."""
    problem = an.parse(data)
    frontier = an.pareto_frontier(problem)
    value: dict[str, Any] = json.loads(
        json.dumps(an.report(problem, frontier, an.solve(problem, frontier)))
    )
    return value


def example(script: str, marker: str) -> dict[str, Any]:
    """The JSON object written after ``// example:<marker>`` in a page's script."""
    text = (STATIC / script).read_text(encoding="utf-8")
    found = re.search(
        r"// example:" + re.escape(marker) + r"\n\s*const \w+ = (\{.*?\n  \});", text, re.S
    )
    assert found is not None, marker
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.mark.parametrize("path", ROUTES)
def test_no_token_no_answer(apps: dict[str, App], path: str) -> None:
    """Without the token (or with another app's), each route answers 403 ui.token_missing."""
    body = {"problem": load(EXAMPLES / "muscat.json")}
    for headers in ({}, {"authorization": f"Bearer {apps['oman'].token}"}):
        response = httpx.post(
            apps["us"].base + path, json=body, headers={"origin": apps["us"].base, **headers}
        )
        assert response.status_code == 403
        assert response.json()["code"] == "ui.token_missing"
        assert "frontier" not in response.text and "matched" not in response.text


@pytest.mark.parametrize("name", ["muscat.json", "three-party.json"])
def test_a_problem_gets_the_engines_frontier_and_fair_points(
    apps: dict[str, App], name: str
) -> None:
    """The answer is the engine's report, key for key, and what ``analyze --json`` prints."""
    data = load(EXAMPLES / name)
    response = post(apps["us"], "/api/analysis", {"problem": data, "method": "pareto"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["frontier"] and result["nash"] and result["kalai_smorodinsky"]
    assert result == pareto(data)
    assert result == cli_json("analyze", str(EXAMPLES / name))
    assert post(apps["oman"], "/api/analysis", {"problem": data}).json() == result  # the default


def test_adjusted_winner_gets_the_engines_division(apps: dict[str, App]) -> None:
    """Adjusted Winner answers the engine's division, as ``analyze --method adjusted-winner``."""
    data = load(EXAMPLES / "adjusted-winner.json")
    body = {"problem": data, "method": "adjusted-winner"}
    result = post(apps["iran"], "/api/analysis", body).raise_for_status().json()
    division = an.adjusted_winner(an.parse(data, points=True))
    assert result == json.loads(json.dumps(an.division_json(division)))
    assert result == cli_json(
        "analyze", str(EXAMPLES / "adjusted-winner.json"), "--method", "adjusted-winner"
    )
    assert sum(result["allocation"][issue]["us"] for issue in result["allocation"]) > 0


def _without(data: dict[str, Any], *path: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target = changed
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return changed


_POINTS = load(EXAMPLES / "adjusted-winner.json")
THREE_WITH_POINTS = {
    **_POINTS,
    "parties": [*_POINTS["parties"], {**_POINTS["parties"][0], "id": "oman"}],
}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "pareto"}, "problem"),
        ({"problem": [1, 2]}, "problem"),
        ({"problem": {"issues": []}}, "issues"),
        (
            {
                "problem": _without(
                    load(EXAMPLES / "muscat.json"), "parties", 1, "values", "sequencing"
                )
            },
            "parties[1].values.sequencing",
        ),
        ({"problem": {**load(EXAMPLES / "muscat.json"), "extra": 1}}, "extra"),
        (
            {"problem": load(EXAMPLES / "muscat.json"), "method": "adjusted-winner"},
            "parties[0].points",
        ),
        ({"problem": THREE_WITH_POINTS, "method": "adjusted-winner"}, "parties"),
    ],
)
def test_a_malformed_problem_is_named_and_nothing_else_is_sent(
    apps: dict[str, App], body: dict[str, Any], field: str
) -> None:
    """A bad problem is a 400 analysis.invalid naming the field path, and no result at all."""
    refused(post(apps["us"], "/api/analysis", body), "analysis.invalid", field)


def test_a_bad_request_is_a_form_problem(apps: dict[str, App]) -> None:
    """An unknown method, or a body that is no JSON object, is form.invalid."""
    problem = load(EXAMPLES / "muscat.json")
    bad_method = post(apps["us"], "/api/analysis", {"problem": problem, "method": "nash"})
    refused(bad_method, "form.invalid", "method")
    with apps["us"].client() as client:
        for path in ROUTES:
            refused(client.post(path, content=b"[not json", headers=JSON), "form.invalid", "body")


def test_the_page_loads_both_scripts(apps: dict[str, App]) -> None:
    """The shell includes analysis.js and escrow.js, and both are served."""
    with apps["us"].client() as client:
        page = client.get("/").text
        for name in ("analysis", "escrow"):
            assert f'<script src="/static/{name}.js" defer></script>' in page
            assert client.get(f"/static/{name}.js").status_code == 200
