"""Architecture rules that keep the layers honest (STYLE.md principles 1 and 6).

``engine/`` and ``record/`` are sans-I/O: they may not import networking, storage, process,
clock or randomness modules, nor call a clock. The public surface is what ``__all__`` says.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import backchannel
import backchannel.engine

SRC = Path(backchannel.__file__).parent
PURE = ("engine", "record", "authority")
FORBIDDEN = {
    "asyncio",
    "anyio",
    "socket",
    "ssl",
    "select",
    "selectors",
    "sqlite3",
    "psycopg",
    "httpx",
    "starlette",
    "uvicorn",
    "websockets",
    "subprocess",
    "threading",
    "multiprocessing",
    "os",
    "shutil",
    "tempfile",
    "pathlib",
    "io",
    "time",
    "random",
    "secrets",
    "uuid",
    "logging",
    "backchannel.store",
    "backchannel.server",
    "backchannel.client",
    "backchannel.cli",
}


#: The device protocol: sans-I/O like the engine, with the one driver (and the profile, the
#: host client) doing the I/O.
DEVICE_PROTOCOL = (
    "acts",
    "admission",
    "direct_match",
    "directory",
    "fanout",
    "joining",
    "ledger",
    "mandates",
    "participant",
    "wire",
    "witness",
)
#: What the device protocol may not reach: the modules that do its I/O.
DEVICE_IO = {
    "backchannel.client.driver",
    "backchannel.client.host",
    "backchannel.client.profile",
    "backchannel.client.files",
    "backchannel.client.sync",
}


def pure_modules() -> list[Path]:
    layers = sorted(
        p for layer in PURE if (SRC / layer).exists() for p in (SRC / layer).rglob("*.py")
    )
    return layers + [SRC / "client" / f"{name}.py" for name in DEVICE_PROTOCOL]


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_layers_do_no_io(path: Path) -> None:
    """No module of engine/, record/, authority/ or the device protocol imports I/O, clocks or
    randomness, or reads the time (the device protocol may use the other client modules, not
    the ones that do its I/O)."""
    forbidden = FORBIDDEN | DEVICE_IO
    if path.parent.name == "client":
        forbidden = forbidden - {"backchannel.client"}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            assert not any(name == f or name.startswith(f + ".") for f in forbidden), (
                f"{path.name} imports {name}"
            )
        if isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today"}:
            pytest.fail(f"{path.name} reads the clock (.{node.attr})")


@pytest.mark.parametrize(
    "module", ["backchannel", "backchannel.documents", "backchannel.engine", "backchannel.errors"]
)
def test_public_names_exist(module: str) -> None:
    """Every name a package exports in __all__ exists, and __all__ is sorted."""
    imported = importlib.import_module(module)
    exported = getattr(imported, "__all__", [])
    for name in exported:
        assert hasattr(imported, name), f"{module} exports missing {name}"
    assert list(exported) == sorted(exported)


def test_engine_surface() -> None:
    """The engine's surface is small and stable: apply, the values, and the read-side queries."""
    assert {"apply", "Talks", "initiator", "visibility", "messages_for", "standing"} <= set(
        backchannel.engine.__all__
    )
    assert not any(name.startswith("_") for name in backchannel.engine.__all__)


def test_error_codes_are_unique_and_dotted() -> None:
    """Every error class has its own stable dotted code and an HTTP status."""
    from backchannel import errors

    seen: dict[str, str] = {}
    for name in dir(errors):
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.BackchannelError):
            if name.startswith("_"):
                continue
            assert "." in cls.code, name
            assert cls.code not in seen, f"{name} and {seen.get(cls.code)} share {cls.code}"
            seen[cls.code] = name
            assert 400 <= cls.status < 600
