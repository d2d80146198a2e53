"""Files users hand us, fuzzed: a clear error naming the place, never a traceback.

Scenario TOML, escrow and analysis JSON, invite codes and record bundles arrive from people, by
mail and chat, damaged or hostile. Each parser is fed Hypothesis mutations of a real file (lines
dropped, doubled or cut, values swapped for any JSON, bytes flipped) and plain junk. It must
either accept the input or raise its own error (``scenario.invalid`` with ``file:line``,
``escrow.invalid`` / ``analysis.invalid`` with the field path, ``invite.malformed``,
``record.bundle_invalid``); any other exception is a bug.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backchannel import scenario
from backchannel.client import bundle
from backchannel.client.admission import Admission, Purpose
from backchannel.client.directory import Introduction
from backchannel.client.invites import INVITE_PREFIX, Invite
from backchannel.client.simulation import run, temporary_host
from backchannel.crypto.device import Device
from backchannel.crypto.signed import Identity
from backchannel.engine import escrow
from backchannel.engine.analysis import problem
from backchannel.errors import (
    BundleInvalid,
    EscrowInvalid,
    InviteMalformed,
    ProblemInvalid,
    ScenarioInvalid,
)

ROOT = Path(__file__).parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
ESCROWS = sorted((ROOT / "scenarios").glob("*.escrow.json"))
PROBLEMS = sorted((ROOT / "examples" / "analysis").glob("*.json"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def line_edits(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few lines dropped, doubled, cut short or replaced by junk."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["drop", "double", "cut", "junk"]))
        if edit == "drop":
            del lines[at]
        elif edit == "double":
            lines.insert(at, lines[at])
        elif edit == "cut":
            lines[at] = lines[at][: draw(st.integers(0, max(0, len(lines[at]) - 1)))]
        else:
            lines[at] = draw(st.text(max_size=30))
    return "\n".join(lines)


@st.composite
def value_edits(draw: st.DrawFn, data: Any) -> Any:
    """``data`` (decoded JSON) with a few values anywhere replaced by any JSON, or removed."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        node, key = data, None
        parent: Any = None
        while isinstance(node, dict | list) and node and draw(st.booleans()):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            key = draw(st.sampled_from(keys))
            parent, node = node, node[key]
        if parent is None:
            data = draw(json_values) if draw(st.integers(0, 9)) == 0 else data
        elif draw(st.booleans()):
            parent[key] = draw(json_values)
        elif isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
    return data


# --- scenarios ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_a_damaged_scenario_is_refused_at_its_line(path: Path, data: st.DataObject) -> None:
    """A scenario with lines dropped, doubled, cut or replaced loads, or is ScenarioInvalid
    naming the file (and the line, when one is at fault)."""
    text = data.draw(line_edits(path.read_text(encoding="utf-8")))
    try:
        scenario.loads(text, path.name)
    except ScenarioInvalid as exc:
        assert exc.message.startswith(path.name) and exc.reason


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_is_a_scenario_or_a_clear_refusal(text: str) -> None:
    """Arbitrary text is never a crash."""
    try:
        scenario.loads(text, "junk.toml")
    except ScenarioInvalid as exc:
        assert exc.message.startswith("junk.toml")


# --- escrow and analysis files ---------------------------------------------------------------


@pytest.mark.parametrize("path", ESCROWS, ids=lambda p: p.name)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_damaged_escrow_is_refused_naming_the_field(path: Path, data: st.DataObject) -> None:
    """Any value of an escrow file replaced or removed: it parses, or EscrowInvalid names the
    field; cut text names the line and column."""
    original = json.loads(path.read_text(encoding="utf-8"))
    try:
        escrow.parse(data.draw(value_edits(original)))
    except EscrowInvalid as exc:
        # The field path names the key at fault; an empty key ("") is named as itself, which
        # reads ": is not a field ..." (reported to the engine's owners, engine/escrow.py).
        assert isinstance(exc.field, str) and exc.reason
    text = data.draw(line_edits(path.read_text(encoding="utf-8")))
    try:
        escrow.loads(text)
    except EscrowInvalid as exc:
        assert exc.field and exc.reason


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
@settings(max_examples=150, deadline=None)
@given(data=st.data(), points=st.booleans())
def test_a_damaged_problem_is_refused_naming_the_field(
    path: Path, data: st.DataObject, points: bool
) -> None:
    """Any value of an analysis file replaced or removed: it parses, or ProblemInvalid names
    the field; cut text names the line and column."""
    original = json.loads(path.read_text(encoding="utf-8"))
    try:
        problem.parse(data.draw(value_edits(original)), points=points)
    except ProblemInvalid as exc:
        # As for escrow files: an empty key is named "" (engine/analysis/problem.py).
        assert isinstance(exc.field, str) and exc.reason
    try:
        problem.loads(data.draw(line_edits(path.read_text(encoding="utf-8"))))
    except ProblemInvalid as exc:
        assert exc.field and exc.reason


# --- invite codes ------------------------------------------------------------------------------


def _real_invite() -> dict[str, Any]:
    """A well-formed v2 invite's fields: an admission into 'iran', sponsored by a real
    device introduction (signed by a fresh identity)."""
    identity = Identity.generate()
    device = Device("dev-oman")
    sponsor = Introduction.make(
        identity, device.certify(identity), "muscat", "oman", "busaidi", True, bytes(32)
    )
    return Invite(
        host="http://127.0.0.1:8470",
        code="c0de",
        talks_host_id="t-1",
        talks_id="muscat",
        title="Muscat",
        admission=Admission(Purpose.PARTY, "iran"),
        secret=bytes(16),
        sponsor=sponsor,
    ).to_json()


_INVITE = _real_invite()


def _encode(data: Any) -> str:
    raw = json.dumps(data).encode()
    return INVITE_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_the_invite_template_is_well_formed() -> None:
    """The fuzz below starts from an invite that decodes, so its edits test the parser."""
    assert Invite.decode(_encode(_INVITE)).party == "iran"


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_damaged_invite_is_refused_with_a_reason(data: st.DataObject) -> None:
    """Junk, a cut or retyped code, or a code whose fields are any JSON: it decodes or is
    InviteMalformed with a sentence, never another exception."""
    candidates = [
        data.draw(st.text(max_size=80)),
        INVITE_PREFIX + data.draw(st.text(max_size=80)),
        _encode(data.draw(value_edits(_INVITE))),
    ]
    whole = _encode(_INVITE)
    cut = data.draw(st.integers(0, len(whole) - 1))
    with pytest.raises(InviteMalformed):
        Invite.decode(whole[:cut])
    for text in candidates:
        try:
            Invite.decode(text)
        except InviteMalformed as refused:
            assert refused.message


# --- record bundles ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real bundle: the Muscat replay's record as the mediator exports it."""
    scratch = tmp_path_factory.mktemp("bundle-fuzz")
    with temporary_host(f"sqlite:///{scratch}/host.db") as url:
        stacked = run(scenario.load(ROOT / "scenarios" / "muscat-2024.toml"), url)
        data = stacked.export_record()
        stacked.close()
    yield data


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_tampered_bundle_is_refused_with_a_reason(
    exported: dict[str, Any], data: st.DataObject
) -> None:
    """A bundle with values replaced or removed, or with one byte changed, is BundleInvalid
    with a reason (the entry and what fails), never another exception."""
    try:
        bundle.verify(data.draw(value_edits(exported)))
    except BundleInvalid as exc:
        assert exc.message
    raw = bytearray(bundle.dumps(exported))
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]))
    with pytest.raises(BundleInvalid) as refused:
        bundle.loads(bytes(raw))
    assert refused.value.message
