"""A hostile neighbour: a real second HTTP server on another 127.0.0.1 port.

It serves whatever page a test gives it and records every request it receives (path and headers),
so a test can see what a browser handed to another origin on the same machine: cookies above all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    """One request the neighbour received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Neighbour:
    """The running neighbour: its base URL, the pages it serves and what it received."""

    base: str
    pages: dict[str, str] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def cookies(self) -> list[str]:
        """Every ``Cookie`` header it was sent."""
        return [s.headers["cookie"] for s in self.seen if "cookie" in s.headers]


@contextmanager
def neighbour() -> Iterator[Neighbour]:
    """Serve a neighbour on a free 127.0.0.1 port for the block."""
    state = Neighbour("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.seen.append(Seen("GET", self.path, headers))
            page = state.pages.get(self.path.split("?", 1)[0], "<!doctype html><title>x</title>")
            body = page.encode("utf-8")
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test reads `seen`

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
