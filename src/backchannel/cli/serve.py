"""``backchannel serve``: run the host (the ASGI app on uvicorn) on one database.

The URL is printed once the socket is bound. Request bodies and ciphertexts are never logged and
the access log is off: the host's log names routes and error codes only. ``--tls-cert`` and
``--tls-key`` serve HTTPS (and WSS) directly; behind a reverse proxy that terminates TLS, name it
with ``--trusted-proxy`` so its ``X-Forwarded-For`` counts for the rate limiter
(``docs/deploy.md``). Ctrl-C stops at once, waking open long polls and sockets (``server/run.py``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from backchannel.cli.app import EXIT_FAILED, app, console, emit_json, fail
from backchannel.errors import BackchannelError, InputError
from backchannel.server import HostConfig, Limits, create_app
from backchannel.server.clients import parse_networks
from backchannel.server.log import load_log_key
from backchannel.server.run import Tls, host_server
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
    tls_cert: Path | None = typer.Option(
        None, help="PEM certificate chain: serve HTTPS and WSS (with --tls-key)."
    ),
    tls_key: Path | None = typer.Option(None, help="PEM private key of --tls-cert."),
    trusted_proxy: list[str] = typer.Option(
        [], help="A reverse proxy (address or CIDR) whose X-Forwarded-For is believed; repeatable."
    ),
    max_poll: int = typer.Option(
        _DEFAULTS.max_sync_timeout_s, min=1, help="Longest long poll a client may ask for (s)."
    ),
    retention_days: int = typer.Option(
        _DEFAULTS.retention_days,
        min=0,
        help="Days an acknowledged ciphertext is kept before it is purged (0: on the ack).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the URL as JSON."),
) -> None:
    """Run the host: store and route opaque ciphertexts between devices."""
    try:
        tls = _tls(tls_cert, tls_key)
        try:
            parse_networks(trusted_proxy)
        except ValueError as exc:
            raise InputError(f"--trusted-proxy: {exc}") from exc
        # Open (and migrate) once up front so a bad URL fails here, with a clear error.
        open_store(db).close()
        signing_key = load_log_key(log_key)
    except BackchannelError as error:
        fail(error, as_json=as_json, exit_code=EXIT_FAILED)
    config = HostConfig(
        db_url=db,
        limits=Limits(
            rate_per_s=rate,
            rate_burst=burst,
            retention_days=retention_days,
            max_sync_timeout_s=max_poll,
        ),
        log_key=signing_key,
        host_name=host_name,
        trusted_proxies=tuple(trusted_proxy),
    )
    server = host_server(create_app(config), host, port, tls)
    url = f"{'https' if tls else 'http'}://{host}:{port}"
    if as_json:
        emit_json({"url": url, "db": db.split("://", 1)[0]})
    else:
        console.print(f"Backchannel host on [bold]{url}[/] (store: {db.split('://', 1)[0]})")
    server.run()


def _tls(cert: Path | None, key: Path | None) -> Tls | None:
    """Both TLS files or neither; each must be readable."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise InputError("--tls-cert and --tls-key go together.")
    for name, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise InputError(f"{name}: no such file: {path}")
    return Tls(cert, key)
