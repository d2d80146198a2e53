"""The Typer application and the helpers every command shares (JSON output, error exit)."""

from __future__ import annotations

import inspect
import json
import re
import sys
from importlib import metadata
from typing import Any, NoReturn

import typer
from rich.console import Console

from backchannel.errors import BackchannelError

app = typer.Typer(
    name="backchannel",
    help="Confidential mediated negotiations: rooms, relays, mandates, escrow, analysis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(asked: bool) -> None:
    if asked:
        try:
            number = metadata.version("backchannel")
        except metadata.PackageNotFoundError:
            number = "0 (not installed)"
        console.print(f"backchannel {number}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Confidential mediated negotiations: rooms, relays, mandates, escrow, analysis."""


#: Human output goes to stdout through Rich; errors to stderr.
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

#: Exit codes shared by every command.
EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def emit_json(value: Any) -> None:
    """Print one JSON document on stdout (UTF-8, not ASCII-escaped, so Arabic stays readable)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def done(sentence: str, data: dict[str, Any], *, as_json: bool) -> None:
    """Print what a command did: ``data`` as JSON with ``--json``, else the sentence."""
    if as_json:
        emit_json(data)
    else:
        console.print(sentence)


def fail(error: BackchannelError, *, as_json: bool, exit_code: int = EXIT_INVALID) -> NoReturn:
    """Report a Backchannel error (code and sentence) and exit."""
    if as_json:
        emit_json({"error": error.to_dict()})
    else:
        err_console.print(f"[bold red]error[/] [dim]{error.code}[/] {error.message}")
    raise typer.Exit(exit_code)


def main() -> None:
    """Console-script entry point."""
    app()


def unwrapped(doc: str) -> str:
    """A docstring as help text: each paragraph one line (the terminal wraps it at its own
    width, not at the source's), and ``code`` shown as `code`."""
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(doc))
    joined = (" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)
    return "\n\n".join(p.replace("``", "`") for p in joined)


def reflow(typer_app: typer.Typer) -> None:
    """Give every command of ``typer_app`` (and of its groups) its docstring unwrapped as help."""
    for command in typer_app.registered_commands:
        if command.help is None and command.callback is not None and command.callback.__doc__:
            command.help = unwrapped(command.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            reflow(group.typer_instance)
