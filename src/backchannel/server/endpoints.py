"""The route table: every HTTP route the host serves, with what the OpenAPI document says of it.

:data:`ENDPOINTS` lists method, path, handler (in :mod:`backchannel.server.routes`, or
:mod:`backchannel.server.blobs` for documents' chunks), summary,
body declaration (a :class:`~backchannel.server.schema.Schemas` field), authentication and success
status; :func:`routes` builds the Starlette routes from it, one per path (dispatching on the
method) so that a 405 names every method the path serves in ``Allow``. The WebSocket route has a
plain-HTTP twin answering 426.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from backchannel.errors import UpgradeRequired
from backchannel.server import blobs, routes
from backchannel.server.problems import problem_response
from backchannel.server.routes import Handler

#: The WebSocket route (documented as the GET that upgrades).
SYNC_SOCKET_PATH = "/v1/sync/ws"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One HTTP route, as the app serves it and the OpenAPI document describes it."""

    method: str
    path: str
    handler: Handler
    summary: str
    body: str | None
    #: "bearer" (a token is required), "optional" (revocation: a token or a signature), "none".
    auth: str
    success: int


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        "/v1/devices",
        routes.register_device,
        "Register a device",
        "register_device",
        "none",
        201,
    ),
    Endpoint(
        "GET",
        "/v1/devices/{device_id}",
        routes.get_device,
        "A device's public keys, for its peers",
        None,
        "bearer",
        200,
    ),
    Endpoint(
        "POST",
        "/v1/devices/{device_id}/revoke",
        routes.revoke_device,
        "Revoke a device (itself, or by its identity's signature)",
        "revoke_device",
        "optional",
        200,
    ),
    Endpoint(
        "POST",
        "/v1/auth/challenge",
        routes.challenge,
        "Get a challenge to sign",
        "challenge",
        "none",
        201,
    ),
    Endpoint(
        "POST",
        "/v1/auth/token",
        routes.token,
        "Exchange a signed challenge for a token",
        "token",
        "none",
        201,
    ),
    Endpoint(
        "POST",
        "/v1/keys/one-time",
        routes.upload_keys,
        "Upload one-time keys",
        "upload_keys",
        "bearer",
        201,
    ),
    Endpoint(
        "GET",
        "/v1/keys/one-time",
        routes.key_count,
        "How many one-time keys are unclaimed",
        None,
        "bearer",
        200,
    ),
    Endpoint(
        "POST",
        "/v1/keys/fallback",
        routes.upload_fallback,
        "Upload the fallback key",
        "fallback_key",
        "bearer",
        201,
    ),
    Endpoint(
        "POST",
        "/v1/keys/claim",
        routes.claim_key,
        "Claim a peer's one-time key, once (its fallback key when none is left)",
        "claim_key",
        "bearer",
        200,
    ),
    Endpoint("POST", "/v1/talks", routes.create_talks, "Create a talks", "empty", "bearer", 201),
    Endpoint(
        "GET",
        "/v1/talks/{talks_id}",
        routes.get_talks,
        "A talks and its admitted devices",
        None,
        "bearer",
        200,
    ),
    Endpoint(
        "POST",
        "/v1/talks/{talks_id}/invites",
        routes.create_invite,
        "Create an invite code",
        "create_invite",
        "bearer",
        201,
    ),
    Endpoint(
        "POST",
        "/v1/invites/accept",
        routes.accept_invite,
        "Accept an invite (be admitted)",
        "accept_invite",
        "bearer",
        200,
    ),
    Endpoint(
        "POST",
        "/v1/talks/{talks_id}/messages",
        routes.send,
        "Send one ciphertext per recipient device",
        "send",
        "bearer",
        201,
    ),
    Endpoint("GET", "/v1/log/key", routes.log_key, "The host's log public key", None, "none", 200),
    Endpoint(
        "GET",
        "/v1/talks/{talks_id}/log/checkpoint",
        routes.log_checkpoint,
        "The talks' latest signed checkpoint",
        None,
        "bearer",
        200,
    ),
    Endpoint(
        "GET",
        "/v1/talks/{talks_id}/log/inclusion",
        routes.log_inclusion,
        "An inclusion proof (index, size)",
        None,
        "bearer",
        200,
    ),
    Endpoint(
        "GET",
        "/v1/talks/{talks_id}/log/consistency",
        routes.log_consistency,
        "A consistency proof (from, to)",
        None,
        "bearer",
        200,
    ),
    Endpoint(
        "GET",
        "/v1/talks/{talks_id}/log/entries",
        routes.log_entries,
        "Leaf entries (start, end)",
        None,
        "bearer",
        200,
    ),
    Endpoint(
        "GET",
        "/v1/sync",
        routes.sync,
        "Long-poll for deliveries after a cursor",
        None,
        "bearer",
        200,
    ),
    Endpoint("POST", "/v1/sync/ack", routes.ack, "Acknowledge deliveries", "ack", "bearer", 200),
    Endpoint(
        "PUT",
        "/v1/talks/{talks_id}/blobs/{blob_id}",
        blobs.declare_blob,
        "Declare a document's blob (chunk count, size)",
        "declare_blob",
        "bearer",
        201,
    ),
    Endpoint(
        "GET",
        "/v1/talks/{talks_id}/blobs/{blob_id}",
        blobs.get_blob,
        "A blob's state: the chunks still missing",
        None,
        "bearer",
        200,
    ),
    Endpoint(
        "PUT",
        "/v1/talks/{talks_id}/blobs/{blob_id}/chunks/{index}",
        blobs.put_chunk,
        "Upload one chunk of the caller's blob",
        "put_chunk",
        "bearer",
        200,
    ),
    Endpoint(
        "GET",
        "/v1/talks/{talks_id}/blobs/{blob_id}/chunks/{index}",
        blobs.get_chunk,
        "One chunk of a complete blob",
        None,
        "bearer",
        200,
    ),
)


def all_routes() -> list[BaseRoute]:
    """Every route of the app except the OpenAPI document and the health check."""
    by_path: dict[str, dict[str, Handler]] = {}
    for e in ENDPOINTS:
        by_path.setdefault(e.path, {})[e.method] = e.handler
    served: list[BaseRoute] = [
        Route(path, _dispatch(handlers), methods=sorted(handlers), name=path)
        for path, handlers in by_path.items()
    ]
    served.append(WebSocketRoute(SYNC_SOCKET_PATH, routes.sync_socket, name="sync_socket"))
    served.append(Route(SYNC_SOCKET_PATH, sync_upgrade, methods=["GET"], name="sync_upgrade"))
    return served


def _dispatch(handlers: dict[str, Handler]) -> Handler:
    if len(handlers) == 1:
        (only,) = handlers.values()
        return only

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return dispatch


async def sync_upgrade(request: Request) -> Response:
    """A plain HTTP request to the WebSocket route: its parameters checked as the socket checks
    them (400), then 426, naming the upgrade it needs."""
    routes.sync_params(request, routes.deps(request).limits)
    response = problem_response(
        UpgradeRequired("This route is a WebSocket: connect with an Upgrade: websocket request.")
    )
    response.headers["upgrade"] = "websocket"
    return response
