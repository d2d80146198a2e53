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
import threading
from contextlib import ExitStack
from pathlib import Path

import typer

from backchannel import scenario as scenario_file
from backchannel.cli.app import EXIT_FAILED, app, console, emit_json, err_console, fail
from backchannel.cli.local import JsonOption
from backchannel.cli.profile import KDF
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
            with console.status(f"Opening {scenario.talks.id} with one device per party…"):
                made = demo_talks.build(
                    scenario, directory, host, passphrase, kdf_limits=KDF["interactive"]
                )
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
                    "skipped": made.skipped,
                    "passphrase_file": str(secret),
                }
            )
        else:
            console.print(f"Host on {host} (SQLite in {directory}); talks {scenario.talks.id}:")
            console.print(f"  {made.acted} acts replayed, {len(made.skipped)} steps left out")
            for party, url in urls.items():
                console.print(f"  [bold]{party}[/] ({made.members[party]}): {url}")
            console.print("Open each address in a browser; Ctrl-C stops the demo.")
        stopping = threading.Event()
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stopping.set())
        while not stopping.wait(1):
            pass
        err_console.print(f"Stopping: the profiles are saved in {directory}")
        # The host cuts the long polls of the apps' stopped sync loops when it shuts down;
        # uvicorn would log each as an application error, which it is not.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
