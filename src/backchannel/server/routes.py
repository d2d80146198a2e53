"""The HTTP and WebSocket routes: parse, authorise, call one :class:`Host` service, reply.

Routes never see SQL. Each one first takes a token from the caller's rate bucket (before any
token is looked up: a device the host recognises from memory, else the client address), then
authenticates (so a request without credentials gets 401 whatever its body), parses its body
against the declared schema, and calls one service. Binary values travel as standard base64;
times are milliseconds since the epoch. The route table is :mod:`backchannel.server.endpoints`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from backchannel.errors import BackchannelError, InputError, PayloadTooLarge
from backchannel.server import auth
from backchannel.server.clients import Network, client_address
from backchannel.server.host import Host
from backchannel.server.limits import Limits, RateLimiter
from backchannel.server.problems import problem
from backchannel.server.schema import Id, Integer, Object, Schemas, Secret, parse_json
from backchannel.store import Delivery, Device

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Deps:
    """What the routes need, built once in the app's lifespan."""

    host: Host
    limits: Limits
    limiter: RateLimiter
    schemas: Schemas
    #: Proxies whose ``X-Forwarded-For`` names the client (``serve --trusted-proxy``).
    trusted: tuple[Network, ...] = ()


def deps(conn: HTTPConnection) -> Deps:
    """The wired dependencies (from the lifespan state)."""
    wired: Deps = conn.state.deps
    return wired


async def authenticate(conn: HTTPConnection) -> Device:
    """The unrevoked device of the bearer token, its rate bucket charged *before* the lookup:
    the device's when this process knows the token, else the client address's."""
    wired = deps(conn)
    try:
        token = auth.bearer_token(conn.headers.get("authorization"))
    except BackchannelError:
        limit_address(conn)
        raise
    known = wired.host.known_device(token)
    if known is None:
        limit_address(conn)
    else:
        wired.limiter.check("device:" + known)
    return await wired.host.authenticate(token)


def limit_address(conn: HTTPConnection) -> None:
    """Charge the rate bucket of the client's address (for unauthenticated callers)."""
    wired = deps(conn)
    wired.limiter.check("address:" + client_address(conn, wired.trusted))


async def body(request: Request, schema: Object) -> dict[str, Any]:
    """Read the body (never more than the size limit) and parse it against ``schema``."""
    limit = deps(request).limits.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is over {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body is over {limit} bytes.")
        chunks.append(chunk)
    return parse_json(b"".join(chunks), schema)


def query_int(conn: HTTPConnection, name: str, spec: Integer, default: int) -> int:
    """An integer query parameter within the spec's bounds."""
    raw = conn.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InputError(f"{name}: must be an integer", detail={"field": name}) from exc
    return int(spec.parse(name, value))


def query_secret(conn: HTTPConnection, name: str) -> str | None:
    """An optional query parameter holding a code the host issued (an invite)."""
    raw = conn.query_params.get(name)
    return None if raw is None else str(Secret().parse(name, raw))


def path_id(request: Request, name: str) -> str:
    """A path parameter that must be an opaque id."""
    return Id(deps(request).limits.max_id_length).parse(name, request.path_params[name])


def reply(data: dict[str, Any], status: int = 200) -> JSONResponse:
    """A JSON response."""
    return JSONResponse(data, status)


def device_json(device: Device) -> dict[str, Any]:
    """A device's public record."""
    return {
        "device_id": device.device_id,
        "identity": auth.b64(device.identity_key),
        "curve25519": auth.b64(device.curve25519),
        "ed25519": auth.b64(device.ed25519),
        "certificate": auth.b64(device.certificate),
        "created_at": device.created_at,
        "revoked_at": device.revoked_at,
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    """One delivery as sent to its recipient."""
    return {
        "position": delivery.position,
        "talks_id": delivery.talks_id,
        "seq": delivery.seq,
        "sender_device": delivery.sender_device,
        "sent_at": delivery.created_at,
        "ciphertext": auth.b64(delivery.ciphertext),
    }


def batch_json(deliveries: list[Delivery], since: int) -> dict[str, Any]:
    """A sync batch and the cursor to ask from next."""
    cursor = deliveries[-1].position if deliveries else since
    return {"deliveries": [delivery_json(d) for d in deliveries], "next": cursor}


# --- devices and authentication ---


async def register_device(request: Request) -> Response:
    """Register a device whose certificate its identity key signed."""
    limit_address(request)
    fields = await body(request, deps(request).schemas.register_device)
    device = await deps(request).host.register_device(**fields)
    return reply(device_json(device), 201)


async def get_device(request: Request) -> Response:
    """A device's public record, for a peer: the device itself, a device sharing a talks with
    it, or (``?invite=CODE``) the holder of a live invite to such a talks; 404 for anyone else,
    as for an unknown id."""
    viewer = await authenticate(request)
    invite = query_secret(request, "invite")
    device_id = path_id(request, "device_id")
    device = await deps(request).host.visible_device(viewer, device_id, invite)
    return reply(device_json(device))


async def revoke_device(request: Request) -> Response:
    """Revoke a device: by itself, or by its identity key's signature."""
    actor = None
    if request.headers.get("authorization"):
        actor = await authenticate(request)
    else:
        limit_address(request)
    fields = await body(request, deps(request).schemas.revoke_device)
    device_id = path_id(request, "device_id")
    device = await deps(request).host.revoke_device(actor, device_id, fields["signature"])
    return reply(device_json(device))


async def challenge(request: Request) -> Response:
    """Issue a single-use challenge for a device to sign."""
    limit_address(request)
    fields = await body(request, deps(request).schemas.challenge)
    issued = await deps(request).host.issue_challenge(fields["device_id"])
    return reply({"challenge": issued.secret, "expires_at": issued.expires_at}, 201)


async def token(request: Request) -> Response:
    """Exchange a signed challenge for a short-lived bearer token."""
    limit_address(request)
    fields = await body(request, deps(request).schemas.token)
    issued = await deps(request).host.issue_token(**fields)
    return reply({"token": issued.secret, "expires_at": issued.expires_at}, 201)


# --- one-time keys ---


async def upload_keys(request: Request) -> Response:
    """Upload the caller's one-time keys."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.upload_keys)
    count = await deps(request).host.upload_one_time_keys(device, fields["keys"])
    return reply({"unclaimed": count}, 201)


async def upload_fallback(request: Request) -> Response:
    """Upload the caller's fallback key (replacing the previous one)."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.fallback_key)
    await deps(request).host.upload_fallback_key(device, fields["key_id"], fields["key"])
    return reply({"fallback": True}, 201)


async def key_count(request: Request) -> Response:
    """How many one-time keys the caller has unclaimed, and whether it has a fallback key."""
    device = await authenticate(request)
    unclaimed, fallback = await deps(request).host.key_count(device)
    return reply({"unclaimed": unclaimed, "fallback": fallback})


async def claim_key(request: Request) -> Response:
    """Claim one of a peer's one-time keys, once, or its fallback key when none is left."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.claim_key)
    key = await deps(request).host.claim_one_time_key(
        device, fields["device_id"], fields["key_id"], fields["invite"]
    )
    return reply(
        {
            "device_id": key.device_id,
            "key_id": key.key_id,
            "key": auth.b64(key.public_key),
            "fallback": key.fallback,
        }
    )


# --- talks ---


async def create_talks(request: Request) -> Response:
    """Create a talks; the caller is admitted."""
    device = await authenticate(request)
    await body(request, deps(request).schemas.empty)
    talks = await deps(request).host.create_talks(device)
    return reply({"talks_id": talks.talks_id, "created_at": talks.created_at}, 201)


async def get_talks(request: Request) -> Response:
    """A talks and its admitted devices, for an admitted device."""
    device = await authenticate(request)
    talks, members = await deps(request).host.talks(device, path_id(request, "talks_id"))
    return reply(
        {
            "talks_id": talks.talks_id,
            "creator_device": talks.creator_device,
            "created_at": talks.created_at,
            "last_seq": talks.last_seq,
            "members": [device_json(m) for m in members],
        }
    )


async def create_invite(request: Request) -> Response:
    """Create a single-use invite code, from an admitted device."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.create_invite)
    issued = await deps(request).host.create_invite(
        device, path_id(request, "talks_id"), fields["ttl_seconds"]
    )
    return reply({"code": issued.secret, "expires_at": issued.expires_at}, 201)


async def accept_invite(request: Request) -> Response:
    """Accept an invite: the caller is admitted to its talks."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.accept_invite)
    talks_id = await deps(request).host.accept_invite(device, fields["code"])
    return reply({"talks_id": talks_id})


async def send(request: Request) -> Response:
    """Send one ciphertext per recipient device into a talks (idempotent per client id)."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.send)
    if not fields["ciphertexts"] and fields["entry"] is None:
        raise InputError(
            "ciphertexts: must not be empty unless the event is only recorded (an entry)",
            detail={"field": "ciphertexts"},
        )
    result = await deps(request).host.send(
        device,
        path_id(request, "talks_id"),
        fields["client_msg_id"],
        fields["ciphertexts"],
        fields["entry"],
    )
    event = result.event
    data = {
        "talks_id": event.talks_id,
        "seq": event.seq,
        "client_msg_id": event.client_msg_id,
        "sent_at": event.created_at,
        "size": event.size,
        "created": result.created,
    }
    if event.leaf_index is not None:
        data["leaf_index"] = event.leaf_index
        data["tree_size"] = result.tree_size
        data["logged_at"] = event.created_at
    return reply(data, 201 if result.created else 200)


# --- the record ---

_LOG_INDEX = Integer(0, 2**63 - 1)


def required_int(conn: HTTPConnection, name: str) -> int:
    """A required non-negative integer query parameter."""
    if name not in conn.query_params:
        raise InputError(f"{name}: is required", detail={"field": name})
    return query_int(conn, name, _LOG_INDEX, 0)


def optional_int(conn: HTTPConnection, name: str) -> int | None:
    """An optional non-negative integer query parameter."""
    if name not in conn.query_params:
        return None
    return query_int(conn, name, _LOG_INDEX, 0)


async def log_key(request: Request) -> Response:
    """The host's Ed25519 log public key; talks ``T``'s checkpoints are signed under the key
    name ``origin_prefix + T`` (verifier key: ``NoteKey(origin, public_key)``)."""
    limit_address(request)
    record = deps(request).host.record
    return reply(
        {
            "algorithm": "ed25519",
            "public_key": auth.b64(record.public_key),
            "host_name": record.host_name,
            "origin_prefix": record.origin(""),
        }
    )


async def log_checkpoint(request: Request) -> Response:
    """The talks' latest checkpoint, a C2SP signed note by the host's log key."""
    device = await authenticate(request)
    talks_id = path_id(request, "talks_id")
    host = deps(request).host
    head = await host.log_checkpoint(device, talks_id)
    return reply(
        {
            "origin": head.origin,
            "tree_size": head.size,
            "root": auth.b64(head.root),
            "checkpoint": head.note,
            "vkey": host.record.note_key(talks_id).vkey(),
        }
    )


async def log_inclusion(request: Request) -> Response:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (default: current)."""
    device = await authenticate(request)
    index, size = required_int(request, "index"), optional_int(request, "size")
    proof = await deps(request).host.log_inclusion(
        device, path_id(request, "talks_id"), index, size
    )
    return reply(
        {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "path": [auth.b64(h) for h in proof.path],
        }
    )


async def log_consistency(request: Request) -> Response:
    """The consistency proof from ``from`` leaves to ``to`` leaves (default: current)."""
    device = await authenticate(request)
    first, second = required_int(request, "from"), optional_int(request, "to")
    proof = await deps(request).host.log_consistency(
        device, path_id(request, "talks_id"), first, second
    )
    return reply(
        {
            "from": proof.first_size,
            "to": proof.second_size,
            "path": [auth.b64(h) for h in proof.path],
        }
    )


async def log_entries(request: Request) -> Response:
    """Leaf entries (32-byte commitments) ``[start, end)``, at most a bounded page."""
    device = await authenticate(request)
    start, end = required_int(request, "start"), optional_int(request, "end")
    tree_size, entries = await deps(request).host.log_entries(
        device, path_id(request, "talks_id"), start, end
    )
    return reply(
        {
            "start": start,
            "tree_size": tree_size,
            "entries": [auth.b64(e) for e in entries],
        }
    )


# --- sync ---


def sync_params(conn: HTTPConnection, limits: Limits) -> tuple[int, int]:
    since = query_int(conn, "since", Integer(0, 2**62), 0)
    limit = query_int(conn, "limit", Integer(1, limits.max_sync_limit), 100)
    return since, limit


async def sync(request: Request) -> Response:
    """Long-poll for the caller's deliveries after a cursor."""
    device = await authenticate(request)
    limits = deps(request).limits
    since, limit = sync_params(request, limits)
    timeout = query_int(request, "timeout", Integer(0, limits.max_sync_timeout_s), 0)
    found = await deps(request).host.sync(device, since, timeout, limit)
    return reply(batch_json(found, since))


async def ack(request: Request) -> Response:
    """Acknowledge the caller's deliveries by position."""
    device = await authenticate(request)
    fields = await body(request, deps(request).schemas.ack)
    marked = await deps(request).host.ack(device, fields["positions"])
    return reply({"acked": marked})


async def sync_socket(websocket: WebSocket) -> None:
    """Push the device's deliveries as they arrive; the client may send acks.

    Messages: server → ``{"type": "deliveries", "deliveries": [...], "next": N}`` and, on a
    failure, ``{"type": "error", "problem": {...}}`` then close with code 4000 + HTTP status;
    client → ``{"type": "ack", "positions": [...]}``.
    """
    await websocket.accept()
    try:
        device = await authenticate(websocket)
        since, limit = sync_params(websocket, deps(websocket).limits)
    except BackchannelError as exc:
        await _close_with(websocket, exc)
        return
    host = deps(websocket).host

    async def push() -> None:
        cursor = since
        while True:
            woken = host.notifier.subscribe(device.device_id)
            await host.active_device(device.device_id)
            found = await host.deliveries(device, cursor, limit)
            if found:
                await websocket.send_json({"type": "deliveries", **batch_json(found, cursor)})
                cursor = found[-1].position
                continue
            await woken.wait()
            if host.notifier.closed:
                raise _GoingAway

    async def receive() -> None:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            text = frame.get("text")
            if text is None:
                raise InputError("WebSocket messages must be JSON text frames.")
            try:
                message = json.loads(text)
            except ValueError as exc:
                raise InputError("A WebSocket message must be JSON.") from exc
            if not isinstance(message, dict) or message.get("type") != "ack":
                raise InputError("Unknown WebSocket message; expected an ack.")
            fields = deps(websocket).schemas.ack.parse(
                "body", {k: v for k, v in message.items() if k != "type"}
            )
            await host.ack(device, fields["positions"])

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(push)
            group.start_soon(receive)
    except* WebSocketDisconnect:
        pass  # the client left; there is no one to tell
    except* _GoingAway:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.close(code=1001)  # the host is shutting down: reconnect later
    except* BackchannelError as failed:
        first = failed.exceptions[0]
        if isinstance(first, BackchannelError):
            await _close_with(websocket, first)


class _GoingAway(Exception):
    """The host is shutting down: the socket closes with 1001 and the client reconnects."""


async def _close_with(websocket: WebSocket, error: BackchannelError) -> None:
    try:
        await websocket.send_json({"type": "error", "problem": problem(error)})
        await websocket.close(code=4000 + error.status)
    except (WebSocketDisconnect, RuntimeError):
        return
