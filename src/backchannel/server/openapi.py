"""The published OpenAPI 3.1 document, generated from the route table and the body schemas.

Nothing here is written twice: paths come from :data:`~backchannel.server.routes.ENDPOINTS` and
request bodies from :class:`~backchannel.server.schema.Schemas`, so the document cannot drift
from what the host accepts.
"""

from __future__ import annotations

import re
from typing import Any

from backchannel.server.routes import ENDPOINTS, SYNC_SOCKET_PATH
from backchannel.server.schema import Schemas

_PARAM = re.compile(r"{([a-z_]+)}")

_PROBLEM = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable dotted error code"},
    },
    "required": ["type", "title", "status", "detail", "code"],
}

_SYNC_QUERY = [
    {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "timeout", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
]


_INT = {"type": "integer", "minimum": 0}
#: Query parameters of the record's routes: (name, required).
_LOG_QUERY = {
    "log_inclusion": (("index", True), ("size", False)),
    "log_consistency": (("from", True), ("to", False)),
    "log_entries": (("start", True), ("end", False)),
}


def openapi_document(schemas: Schemas, version: str) -> dict[str, Any]:
    """The OpenAPI document of every HTTP route (the WebSocket is described in ``info``)."""
    paths: dict[str, dict[str, Any]] = {}
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for endpoint in ENDPOINTS:
        operation: dict[str, Any] = {
            "operationId": endpoint.handler.__name__,
            "summary": endpoint.summary,
            "responses": {
                str(endpoint.success): {"description": "success"},
                "4XX": {
                    "description": "problem details (RFC 9457)",
                    "content": {"application/problem+json": {"schema": problem_ref}},
                },
            },
        }
        if endpoint.handler.__doc__:
            operation["description"] = endpoint.handler.__doc__
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(endpoint.path)
        ]
        if endpoint.path == "/v1/sync":
            parameters += _SYNC_QUERY
        for name, required in _LOG_QUERY.get(endpoint.handler.__name__, ()):
            parameters.append({"name": name, "in": "query", "required": required, "schema": _INT})
        if parameters:
            operation["parameters"] = parameters
        if endpoint.body is not None:
            schema = getattr(schemas, endpoint.body).json_schema()
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        if endpoint.authenticated:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Backchannel host",
            "version": version,
            "description": (
                "Stores and routes opaque ciphertexts between devices. Push sync: WebSocket at "
                f"{SYNC_SOCKET_PATH}?since=N (bearer token in the Authorization header)."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {"Problem": _PROBLEM},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
