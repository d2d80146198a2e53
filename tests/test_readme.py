"""The README and ``docs/client.md`` run as written.

Every ``sh`` block after the README's Quick start, then every ``sh`` block of ``docs/client.md``,
runs with ``bash -euo pipefail`` from the checkout, in a fresh ``HOME``, with ``.venv/bin`` first
on ``PATH`` and ``BACKCHANNEL_PASSPHRASE`` set, against a ``backchannel serve`` on
127.0.0.1:8470 as the README starts it (its ``var/`` in a scratch directory). Each block must
exit 0; what they print together is checked for the walk-through's point: the carry reached the
United States in the mediator's words, and carrying Iran's words verbatim was refused.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)
PORT = 8470  # the README's

pytestmark = pytest.mark.xdist_group("readme")


def sh_blocks(path: Path, *, after: str | None = None) -> list[str]:
    """The ``sh`` blocks of a Markdown file (only those after the heading ``after``)."""
    text = path.read_text(encoding="utf-8")
    if after is not None:
        text = text[text.index(after) :]
        text = text[text.index("\n## ", 1) :]  # the section after it
    return BLOCK.findall(text)


@pytest.fixture
def readme_host(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A host as the README starts it, and the environment the blocks run in."""
    scratch = tmp_path / "host"
    scratch.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")},
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "BACKCHANNEL_PASSPHRASE": "correct horse battery staple",  # the README's own
        "COLUMNS": "100",
    }
    log = scratch / "serve.log"
    with log.open("wb") as out:
        host = subprocess.Popen(
            [sys.executable, "-m", "backchannel", "serve"],
            cwd=scratch,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{PORT}/v1/health", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            if host.poll() is not None or time.monotonic() > deadline:
                said = log.read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"backchannel serve did not start on {PORT}: {said}")
            time.sleep(0.2)
        yield env
    finally:
        host.terminate()
        host.wait(timeout=10)


def run_block(block: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"this block failed ({done.returncode}):\n{block}\n---\n{output}"
    return output


def test_the_readme_and_the_client_guide_run_as_written(readme_host: dict[str, str]) -> None:
    readme = sh_blocks(ROOT / "README.md", after="## Quick start")
    guide = sh_blocks(ROOT / "docs" / "client.md")
    assert readme and guide, "the README and docs/client.md each hold at least one sh block"
    printed = "".join(run_block(block, readme_host) for block in readme + guide)
    # The walk-through's point, as a person reading along would see it.
    assert "carried by envoy (the mediator's words)" in printed
    assert "Iran signals a reduction in attacks" in printed
    assert "relay.label_forbids" in printed
    assert "Traceback" not in printed
    print(printed)  # the closing note pastes it (pytest -s)


def test_the_blocks_are_found_where_the_readme_puts_them() -> None:
    """The extraction itself: the Quick start's own block (make run / make test) is not run."""
    blocks = sh_blocks(ROOT / "README.md", after="## Quick start")
    assert not any("make run" in block for block in blocks)
    assert any("backchannel talks join" in block for block in blocks)
