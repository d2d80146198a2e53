"""``backchannel demo``: what ``make run`` starts — a host, a scenario's talks, and the web apps.

The host runs on its embedded SQLite database in DIR; one device profile per party (the
mediator's and each delegation's) is created in DIR and plays the scenario's steps through the
host (:mod:`backchannel.client.demo`); then each profile's web app is served on 127.0.0.1 with its
own token and the addresses are printed. Ctrl-C stops everything and saves the profiles. The
profiles' passphrase is written to DIR/passphrase (0600), so the CLI can open them too.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from backchannel import scenario as scenario_file
from backchannel.cli.app import EXIT_FAILED, app, console, emit_json, err_console, fail
from backchannel.cli.local import KDF, JsonOption
from backchannel.client import demo as demo_talks
from backchannel.client.profile import Profile
from backchannel.errors import BackchannelError, InputError
from backchannel.server import HostConfig, Limits
from backchannel.server.local import serve_locally
from backchannel.ui import create_app, new_token, serving


@app.command()
def demo(
    file: Path = typer.Argument(
        Path("scenarios/muscat-2024.toml"), help="The scenario whose talks to open."
    ),
    directory: Path = typer.Option(
        Path("var/demo"), "--dir", help="Where the host's database and the profiles go (new)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Start a host, open a scenario's talks as one device per party, and serve their web apps."""
    try:
        scenario = scenario_file.load(file)
        if directory.exists() and any(directory.iterdir()):
            raise InputError(f"{directory} is not empty: remove it, or choose another --dir")
    except BackchannelError as error:
        fail(error, as_json=as_json)
    directory.mkdir(parents=True, exist_ok=True)
    passphrase = secrets.token_urlsafe(18)
    secret = directory / "passphrase"
    secret.write_text(passphrase + "\n", encoding="utf-8")
    os.chmod(secret, 0o600)
    database = f"sqlite:///{directory.resolve() / 'host.db'}"
    with ExitStack() as stack:
        try:
            host = stack.enter_context(
                serve_locally(HostConfig(db_url=database, limits=Limits(rate_per_s=0)))
            )
            made = _build(scenario, directory, host, passphrase, quiet=as_json)
            urls: dict[str, str] = {}
            for party, path in made.profiles.items():
                profile = stack.enter_context(Profile.open(path, passphrase))
                token = new_token()
                base = stack.enter_context(serving(create_app(profile, token)))
                urls[party] = f"{base}/?token={token}"
        except BackchannelError as error:
            fail(error, as_json=as_json, exit_code=EXIT_FAILED)
        if as_json:
            emit_json(
                {
                    "host": host,
                    "talks": scenario.talks.id,
                    "apps": urls,
                    "members": made.members,
                    "acted": made.acted,
                    "skipped": [s.to_json() for s in made.skipped],
                    "rejoined": made.rejoined,
                    "passphrase_file": str(secret),
                    "cli": _cli_hint(scenario.talks.id, directory, made),
                }
            )
        else:
            console.print(f"Host on {host} (SQLite in {directory}); talks {scenario.talks.id}:")
            refused = sum(1 for step in scenario.steps if step.expect_error is not None)
            console.print(
                f"  {made.acted} acts replayed as the scenario has them; the {refused} steps it "
                f"expects to be refused are not (backchannel simulate {file} shows them)"
            )
            for skipped in made.skipped:
                console.print(f"  left out: {skipped.what} ({skipped.why})")
            for again in made.rejoined:
                console.print(f"  joined again so your relays reach it: {again}")
            for party, url in urls.items():
                console.print(f"  [bold]{party}[/] ({made.members[party]}): {url}")
            console.print("Open each address in a browser; Ctrl-C stops the demo.")
            hint = _cli_hint(scenario.talks.id, directory, made)
            console.print(f"After Ctrl-C, the command line opens the same profiles: {hint}")
        stopping = threading.Event()
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stopping.set())
        while not stopping.wait(1):
            pass
        err_console.print(f"Stopping: the profiles are saved in {directory}")
        # The host cuts the long polls of the apps' stopped sync loops when it shuts down;
        # uvicorn would log each as an application error, which it is not.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)


def _build(
    scenario: scenario_file.Scenario, directory: Path, host: str, passphrase: str, *, quiet: bool
) -> demo_talks.Demo:
    """Play the scenario through one profile per party, with a progress bar unless ``quiet``."""
    if quiet:
        return demo_talks.build(
            scenario, directory, host, passphrase, kdf_limits=KDF["interactive"]
        )
    columns = (
        TextColumn("[bold]{task.fields[talks]}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("creating the profiles…", total=None, talks=scenario.talks.id)

        def on_step(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        return demo_talks.build(
            scenario,
            directory,
            host,
            passphrase,
            kdf_limits=KDF["interactive"],
            on_step=on_step,
        )


def _cli_hint(alias: str, directory: Path, made: demo_talks.Demo) -> str:
    """A command that reads one delegation's talks from the shell, as the demo left them."""
    launcher = Path(sys.executable).parent / "backchannel"
    command = launcher if launcher.exists() else Path("backchannel")
    parties = list(made.profiles)
    party = parties[1] if len(parties) > 1 else parties[0]  # a delegation's, not the convener's
    return (
        f"{_relative(command)} read {alias} --profile {made.profiles[party]} "
        f"--passphrase-file {directory / 'passphrase'}"
    )


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
