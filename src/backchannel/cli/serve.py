"""``backchannel serve``: run the host (the ASGI app on uvicorn) on one database.

The URL is printed once the socket is bound. Request bodies and ciphertexts are never logged and
the access log is off: the host's log names routes and error codes only.
"""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn

from backchannel.cli.app import EXIT_FAILED, app, console, emit_json, fail
from backchannel.errors import BackchannelError
from backchannel.server import HostConfig, Limits, create_app
from backchannel.server.log import load_log_key
from backchannel.store import open_store

DEFAULT_DB = "sqlite:///var/host.db"
DEFAULT_LOG_KEY = Path("var/log.key")
_DEFAULTS = Limits()


@app.command()
def serve(
    db: str = typer.Option(DEFAULT_DB, help="sqlite:///path or postgresql://…"),
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8470, help="Port to bind."),
    rate: float = typer.Option(
        _DEFAULTS.rate_per_s, help="Requests per second per device (0: no rate limit)."
    ),
    burst: int = typer.Option(_DEFAULTS.rate_burst, help="Burst size of the rate limit."),
    log_key: Path = typer.Option(
        DEFAULT_LOG_KEY, help="The Ed25519 seed that signs checkpoints (created 0600 if missing)."
    ),
    host_name: str = typer.Option("localhost", help="This host's name in log origins."),
    as_json: bool = typer.Option(False, "--json", help="Print the URL as JSON."),
) -> None:
    """Run the host: store and route opaque ciphertexts between devices."""
    try:
        # Open (and migrate) once up front so a bad URL fails here, with a clear error.
        open_store(db).close()
        signing_key = load_log_key(log_key)
    except BackchannelError as error:
        fail(error, as_json=as_json, exit_code=EXIT_FAILED)
    config = HostConfig(
        db_url=db,
        limits=Limits(rate_per_s=rate, rate_burst=burst),
        log_key=signing_key,
        host_name=host_name,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=host,
            port=port,
            access_log=False,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
    )
    url = f"http://{host}:{port}"
    if as_json:
        emit_json({"url": url, "db": db.split("://", 1)[0]})
    else:
        console.print(f"Backchannel host on [bold]{url}[/] (store: {db.split('://', 1)[0]})")
    server.run()
