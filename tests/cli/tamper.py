"""A host that tampers with documents' chunks, for tests only: the real app behind an ASGI wrapper.

Armed, it answers a chunk read of one blob with another blob's chunk (``swap``), refuses one
chunk (``drop``: the read fails as if the connection were cut), or flips a byte of every chunk it
returns (``flip``). Disarmed, every request goes to the real app unchanged.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CHUNK = re.compile(r"^/v1/talks/([^/]+)/blobs/([^/]+)/chunks/(\d+)$")


@dataclass
class TamperingHost:
    """The host's app, its chunk reads altered as :attr:`swap`, :attr:`drop`, :attr:`flip` say."""

    app: ASGIApp
    #: Blob id → the blob id whose chunks are returned instead.
    swap: dict[str, str] = field(default_factory=dict)
    #: Chunk indexes whose reads fail (503).
    drop: set[int] = field(default_factory=set)
    flip: bool = False

    def disarm(self) -> None:
        """Behave like the real host again."""
        self.swap.clear()
        self.drop.clear()
        self.flip = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _CHUNK.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        talks, blob, index = match.groups()
        if int(index) in self.drop:
            body = json.dumps({"code": "store.error", "detail": "cut", "status": 503}).encode()
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        if blob in self.swap:
            path = f"/v1/talks/{talks}/blobs/{self.swap[blob]}/chunks/{index}"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        if not self.flip:
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        start: Message = {}

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            parts.append(message.get("body", b""))
            if message.get("more_body"):
                return
            if start["status"] != 200:
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(parts)})
                return
            data = json.loads(b"".join(parts))
            raw = bytearray(base64.b64decode(data["data"]))
            raw[len(raw) // 2] ^= 1
            data["data"] = base64.b64encode(bytes(raw)).decode()
            body = json.dumps(data).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
