"""The record package's public surface and its sans-I/O promise."""

from __future__ import annotations

import ast
from pathlib import Path

import backchannel.record as record

PACKAGE = Path(record.__file__).parent
FORBIDDEN = {
    "asyncio",
    "os",
    "pathlib",
    "io",
    "socket",
    "sqlite3",
    "time",
    "datetime",
    "random",
    "secrets",
    "subprocess",
    "threading",
    "urllib",
    "http",
    "psycopg",
    "nacl.utils",
}


def test_exported_names() -> None:
    """``__all__`` lists exactly the public API, and every name in it exists."""
    assert sorted(record.__all__) == sorted(set(record.__all__))
    for name in record.__all__:
        assert hasattr(record, name), name
    assert {
        "MerkleTree",
        "NodeReader",
        "InclusionProof",
        "ConsistencyProof",
        "verify_inclusion",
        "check_inclusion",
        "verify_consistency",
        "check_consistency",
        "commit",
        "opens",
        "canonical_event",
        "Checkpoint",
        "sign_checkpoint",
        "open_checkpoint",
        "cosign",
        "check_cosignature",
    } <= set(record.__all__)


def test_record_imports_no_io_clock_or_randomness() -> None:
    """No module in record/ imports files, sockets, clocks, randomness, asyncio or a database."""
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = {name, name.split(".")[0]}
                assert not top & FORBIDDEN, f"{path.name} imports {name}"


def test_modules_stay_small() -> None:
    """Every module in record/ stays under 600 lines."""
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 600, path.name
