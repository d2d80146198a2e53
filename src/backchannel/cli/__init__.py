"""The ``backchannel`` command: one Typer app, one module per command group.

Each command module registers itself on ``app`` (from :mod:`backchannel.cli.app`) when imported;
this package imports them all so ``backchannel --help`` lists every command.
"""

# Command modules register themselves on import; keep one line per module, sorted.
from backchannel.cli import (
    analyze,  # noqa: F401
    demo,  # noqa: F401
    devices,  # noqa: F401
    documents,  # noqa: F401
    escrow,  # noqa: F401
    match,  # noqa: F401
    messages,  # noqa: F401
    prefs,  # noqa: F401
    profile,  # noqa: F401
    record,  # noqa: F401
    serve,  # noqa: F401
    simulate,  # noqa: F401
    sync,  # noqa: F401
    talks,  # noqa: F401
    text,  # noqa: F401
    ui,  # noqa: F401
    verify,  # noqa: F401
)
from backchannel.cli.app import app, main, reflow

reflow(app)

__all__ = ["app", "main"]
