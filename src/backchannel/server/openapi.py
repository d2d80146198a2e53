"""The published OpenAPI 3.1 document: the exact contract of every route the host serves.

Nothing here is written twice: paths and methods come from
:data:`~backchannel.server.endpoints.ENDPOINTS`, request bodies from
:class:`~backchannel.server.schema.Schemas`, parameters, responses, problem codes and links from
:func:`~backchannel.server.contract.operations`. A problem response's schema names, per status,
the exact ``code`` values the route can answer; a 429 declares its ``Retry-After`` header. The
WebSocket (``/v1/sync/ws``) is documented as the GET that upgrades (101), answered 426 without an
upgrade; a 405 for an undeclared method carries ``Allow``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from backchannel.server.contract import Operation, operations
from backchannel.server.endpoints import ENDPOINTS, SYNC_SOCKET_PATH
from backchannel.server.limits import Limits
from backchannel.server.problems import MEDIA_TYPE, TYPE_PREFIX
from backchannel.server.schema import Schemas


def _problem(status: int, codes: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "type": {"enum": [TYPE_PREFIX + code for code in codes]},
            "title": {"const": HTTPStatus(status).phrase},
            "status": {"const": status},
            "detail": {"type": "string"},
            "code": {"enum": list(codes), "description": "stable dotted error code"},
        },
        "required": ["type", "title", "status", "detail", "code"],
        "additionalProperties": False,
    }


def _responses(success: int, operation: Operation) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": HTTPStatus(success).phrase}
    if success != 101:
        ok["content"] = {"application/json": {"schema": operation.response}}
    if operation.links:
        ok["links"] = {
            name: {
                "operationId": target,
                **({"parameters": parameters} if parameters else {}),
                **({"requestBody": body} if body is not None else {}),
            }
            for name, (target, parameters, body) in operation.links.items()
        }
    responses: dict[str, Any] = {str(success): ok}
    for status in operation.also:
        responses[str(status)] = {**ok, "description": HTTPStatus(status).phrase}
        responses[str(status)].pop("links", None)
    for status, codes in sorted(operation.problems.items()):
        problem: dict[str, Any] = {
            "description": "problem details (RFC 9457): " + ", ".join(codes),
            "content": {MEDIA_TYPE: {"schema": _problem(status, codes)}},
        }
        if status == 429:
            problem["headers"] = {
                "Retry-After": {
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                    "description": "seconds until the caller's bucket has a token again",
                }
            }
        if status == 426:
            problem["headers"] = {"Upgrade": {"required": True, "schema": {"const": "websocket"}}}
        responses[str(status)] = problem
    return responses


#: Routes served outside :data:`ENDPOINTS`: (method, path, operationId, summary, success).
EXTRA = (
    ("GET", "/openapi.json", "openapi", "This document", 200),
    ("GET", "/v1/health", "health", "Liveness: the process is up and its store was opened", 200),
    (
        "GET",
        SYNC_SOCKET_PATH,
        "sync_upgrade",
        "Push sync over a WebSocket (bearer token in the Authorization header); server → "
        '{"type": "deliveries", "deliveries": [...], "next": N}, client → '
        '{"type": "ack", "positions": [...]}; on a failure {"type": "error", "problem": {...}} '
        "and close code 4000 + HTTP status; 1001 when the host shuts down",
        101,
    ),
)


def openapi_document(
    schemas: Schemas, version: str, limits: Limits | None = None
) -> dict[str, Any]:
    """The OpenAPI document of every route the app serves."""
    contract = operations(limits or Limits())
    paths: dict[str, dict[str, Any]] = {}
    rows = [
        (e.method, e.path, e.handler.__name__, e.summary, e.success, e.body, e.auth)
        for e in ENDPOINTS
    ] + [
        (method, path, op, summary, status, None, "none")
        for method, path, op, summary, status in EXTRA
    ]
    for method, path, operation_id, summary, success, body, auth in rows:
        operation = contract[operation_id]
        document: dict[str, Any] = {
            "operationId": operation_id,
            "summary": summary,
            "responses": _responses(success, operation),
        }
        if operation.params:
            document["parameters"] = [param.document() for param in operation.params]
        if body is not None:
            fields = getattr(schemas, body)
            document["requestBody"] = {
                # A body whose every field is optional may be left out entirely.
                "required": bool(set(fields.fields) - fields.optional),
                "content": {"application/json": {"schema": fields.json_schema()}},
            }
        if auth == "bearer":
            document["security"] = [{"bearer": []}]
        elif auth == "optional":
            document["security"] = [{}, {"bearer": []}]
        else:
            document["security"] = []
        paths.setdefault(path, {})[method.lower()] = document
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Backchannel host",
            "version": version,
            "description": (
                "Stores and routes opaque ciphertexts between devices. Every problem is RFC 9457 "
                "problem details with a stable code; any route may also answer 405 (with Allow) "
                "for a method it does not serve."
            ),
        },
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
