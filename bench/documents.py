"""Document throughput: a 100 MiB file up to and down from a real host, against curl on loopback.

Backchannel runs as a separate ``backchannel serve`` process on SQLite (rate limit off). One
device seals the file (secretstream, 1 MiB chunks, Padmé padding) into a spool, uploads the
chunks, and a download fetches them back, checks every chunk, the final tag, the ciphertext's and
the plaintext's SHA-256, and renames the file into place: the three are timed apart.

The peer, measured in the same run on the same bytes: ``curl`` fetching the plaintext file from
``python -m http.server`` on 127.0.0.1 — a plain copy over loopback, no encryption, no database,
no verification. The ratio is the peer's time over Backchannel's (1.0: as fast as a copy).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from backchannel.client import transfer
from backchannel.client.document import Descriptor
from backchannel.client.host import HostClient
from backchannel.crypto import Device, Identity
from bench.relay import _free_port, _wait_http

MIB = 1024 * 1024
SIZE = 100 * MIB
console = Console(width=max(120, shutil.get_terminal_size().columns))


@contextmanager
def _process(args: list[str], health: str, cwd: Path) -> Iterator[None]:
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(health, proc)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def _backchannel(scratch: Path, source: Path) -> dict[str, float]:
    port = _free_port()
    args = [sys.executable, "-m", "backchannel", "serve", "--db", f"sqlite:///{scratch}/h.db"]
    args += ["--port", str(port), "--rate", "0", "--log-key", str(scratch / "log.key")]
    url = f"http://127.0.0.1:{port}"
    with _process(args, f"{url}/v1/health", scratch):
        client = HostClient(url, Device(f"dev-{secrets.token_hex(8)}"), timeout=120)
        client.register(Identity.generate())
        talks = client.create_talks()
        spool = scratch / "spool"
        sealed: list[transfer.Sealed] = []
        seal = _timed(lambda: sealed.append(transfer.seal_file(source, spool)))
        blob = secrets.token_hex(16)
        upload = _timed(lambda: transfer.upload(client, talks, blob, sealed[0], spool))
        s = sealed[0]
        descriptor = Descriptor(
            source.name, s.size, "application/octet-stream", s.sha256, blob,
            s.ciphertext_sha256, s.key, s.header, s.chunk,
        )  # fmt: skip
        out = scratch / "fetched.bin"
        download = _timed(lambda: transfer.download(client, talks, descriptor, out))
        assert transfer.file_sha256(out) == s.sha256
        client.close()
    return {"seal": seal, "upload": upload, "download": download}


def _curl(scratch: Path, source: Path) -> float | None:
    if shutil.which("curl") is None:
        return None
    port = _free_port()
    args = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    url = f"http://127.0.0.1:{port}/{source.name}"
    with _process(args, f"http://127.0.0.1:{port}/", source.parent):
        out = scratch / "curl.bin"
        took = _timed(lambda: subprocess.run(["curl", "-sSf", "-o", str(out), url], check=True))
        assert out.stat().st_size == source.stat().st_size
    return took


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bc-bench-docs-") as tmp:
        scratch = Path(tmp)
        files = scratch / "files"
        files.mkdir()
        source = files / "payload.bin"
        with source.open("wb") as f:
            for _ in range(SIZE // MIB):
                f.write(os.urandom(MIB))
        with console.status("documents: curl over loopback (peer)"):
            peer = _curl(scratch, source)
        with console.status("documents: 100 MiB through backchannel serve"):
            ours = _backchannel(scratch, source)
    title = "Documents: 100 MiB through the host vs curl from a static server (same run)"
    table = Table(title=title)
    for column in ("step", "seconds", "MiB/s", "curl / step (1.0 = a plain copy)"):
        table.add_column(column, justify="right" if column != "step" else "left")
    if peer is not None:
        table.add_row("curl GET (peer)", f"{peer:.2f}", f"{SIZE / MIB / peer:.0f}", "1.00")
    for step, took in ours.items():
        ratio = f"{peer / took:.2f}" if peer is not None else "curl missing"
        table.add_row(f"backchannel {step}", f"{took:.2f}", f"{SIZE / MIB / took:.0f}", ratio)
    console.print(table)


if __name__ == "__main__":
    main()
