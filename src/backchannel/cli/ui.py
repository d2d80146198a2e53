"""``backchannel ui``: serve the local web app for one profile on 127.0.0.1, with a token.

The profile stays open (and locked) while the app runs; Ctrl-C stops it and saves the profile.
The printed address holds the access token: whoever has it can act as this device.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from backchannel.cli.app import app, console, emit_json
from backchannel.cli.local import JsonOption, PassphraseOption, ProfileOption, failures, opened
from backchannel.errors import InputError
from backchannel.ui import address, bind, create_app, new_token
from backchannel.ui.serve import server


@app.command()
def ui(
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0: any free port)."),
    profile: Path | None = ProfileOption,
    passphrase_file: Path | None = PassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Serve the web app for this profile on 127.0.0.1 and print the address to open."""
    with opened(profile, passphrase_file, as_json=as_json) as unlocked:
        with failures(as_json=as_json):
            try:
                sock = bind(port)
            except OSError as exc:
                raise InputError(
                    f"port {port} on 127.0.0.1 is not free: choose another, or 0 for any"
                ) from exc
        token = new_token()
        url = address(sock, token)
        if as_json:
            emit_json({"url": url, "port": sock.getsockname()[1]})
        else:
            console.print(f"Backchannel for [bold]{unlocked.name or 'this device'}[/] on:")
            console.print(url, soft_wrap=True)
            console.print("Open it in your browser; the address holds this device's access token.")
        sys.stdout.flush()
        try:
            server(create_app(unlocked, token)).run(sockets=[sock])
        finally:
            sock.close()
