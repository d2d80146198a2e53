"""The API contract beyond the request bodies: parameters, responses and problems, per route.

The OpenAPI document (:mod:`backchannel.server.openapi`) is built from this table, the route
table (:data:`~backchannel.server.endpoints.ENDPOINTS`) and the body declarations
(:class:`~backchannel.server.schema.Schemas`), so it states exactly what the host does:

* the query and path parameters each route reads, with the bounds it enforces;
* the success response's JSON Schema;
* every problem a route can answer, by status, with the exact ``code`` values (an ``enum``);
* the links a client follows from one response to the next request (and Schemathesis'
  stateful phase with it: a created talks to its invites, messages and log).

Every route may also answer 429 ``rate.limited`` (with ``Retry-After``) and 503 ``store.error``;
no route answers 5xx otherwise. A test checks this table against the routes the app serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backchannel.server.limits import Limits
from backchannel.server.schema import Binary, Field, Id, Integer, Secret

#: Problems any route may answer, whatever it is.
COMMON: Mapping[int, tuple[str, ...]] = {429: ("rate.limited",), 503: ("store.error",)}
#: Problems of a route that needs a bearer token (a revoked device is 403).
AUTH: Mapping[int, tuple[str, ...]] = {
    401: ("auth.required", "auth.invalid", "auth.expired"),
    403: ("access.forbidden",),
}
#: Problems of a route that reads a body or parameters.
INPUT: Mapping[int, tuple[str, ...]] = {400: ("input.invalid",)}
BODY: Mapping[int, tuple[str, ...]] = {400: ("input.invalid",), 413: ("input.too_large",)}

_INT = {"type": "integer", "minimum": 0}
_TIME = {"type": "integer", "minimum": 0, "description": "milliseconds since the Unix epoch"}


def _object(properties: dict[str, Any], optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(set(properties) - optional),
        "additionalProperties": False,
    }


@dataclass(frozen=True, slots=True)
class Param:
    """A query or path parameter."""

    name: str
    where: str
    spec: Field
    required: bool = False

    def document(self) -> dict[str, Any]:
        """The OpenAPI parameter object."""
        return {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
            "schema": self.spec.json_schema(),
        }


@dataclass(frozen=True, slots=True)
class Operation:
    """What one route reads besides its body, what it answers, and where its answer leads."""

    response: dict[str, Any]
    problems: Mapping[int, tuple[str, ...]]
    params: tuple[Param, ...] = ()
    #: Other success statuses with the same body (a replayed send answers 200).
    also: tuple[int, ...] = ()
    #: OpenAPI links of the success response: name → (operationId, parameters, request body).
    links: dict[str, tuple[str, dict[str, str], Any]] = field(default_factory=dict)


def _merge(*tables: Mapping[int, tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    merged: dict[int, tuple[str, ...]] = {}
    for table in tables:
        for status, codes in table.items():
            merged[status] = tuple(dict.fromkeys((*merged.get(status, ()), *codes)))
    return merged


def operations(limits: Limits) -> dict[str, Operation]:
    """Every route's contract, keyed by operationId (the handler's name)."""
    ident = Id(limits.max_id_length)
    key, sig = Binary(size=32).json_schema(), Binary(size=64).json_schema()
    id_schema, secret = ident.json_schema(), Secret().json_schema()
    device = _object(
        {
            "device_id": id_schema,
            "identity": key,
            "curve25519": key,
            "ed25519": key,
            "certificate": sig,
            "created_at": _TIME,
            "revoked_at": {"anyOf": [_TIME, {"type": "null"}]},
        }
    )
    talks_id = Param("talks_id", "path", ident)
    device_id = Param("device_id", "path", ident)
    index = Integer(0, 2**63 - 1)
    hashes = {"type": "array", "items": key}
    to_talks = {"talks_id": "$response.body#/talks_id"}
    talks_links: dict[str, tuple[str, dict[str, str], Any]] = {
        "GetTalks": ("get_talks", to_talks, None),
        "CreateInvite": ("create_invite", to_talks, {}),
        "Send": ("send", to_talks, None),
        "LogCheckpoint": ("log_checkpoint", to_talks, None),
        "LogEntries": ("log_entries", to_talks, None),
    }
    send_response = _object(
        {
            "talks_id": id_schema,
            "seq": {"type": "integer", "minimum": 1},
            "client_msg_id": id_schema,
            "sent_at": _TIME,
            "size": _INT,
            "created": {"type": "boolean"},
            "leaf_index": _INT,
            "tree_size": {"type": "integer", "minimum": 1},
            "logged_at": _TIME,
        },
        frozenset({"leaf_index", "tree_size", "logged_at"}),
    )
    delivery = _object(
        {
            "position": {"type": "integer", "minimum": 1},
            "talks_id": id_schema,
            "seq": {"type": "integer", "minimum": 1},
            "sender_device": id_schema,
            "sent_at": _TIME,
            "ciphertext": Binary(max_size=limits.max_ciphertext_bytes).json_schema(),
        }
    )
    talks_read = _merge(COMMON, AUTH, INPUT, {404: ("resource.not_found",)})
    log_read = _merge(talks_read, {400: ("record.range_invalid",)})
    return {
        "register_device": Operation(
            device,
            _merge(COMMON, BODY, {400: ("crypto.bad_signature",), 409: ("store.conflict",)}),
            links={
                "GetDevice": ("get_device", {"device_id": "$response.body#/device_id"}, None),
            },
        ),
        "get_device": Operation(
            device,
            _merge(COMMON, AUTH, INPUT, {404: ("resource.not_found",)}),
            (device_id, Param("invite", "query", Secret())),
        ),
        "revoke_device": Operation(
            device,
            _merge(COMMON, AUTH, BODY, {400: ("crypto.bad_signature",)}),
            (device_id,),
        ),
        "challenge": Operation(
            _object({"challenge": key, "expires_at": _TIME}), _merge(COMMON, BODY)
        ),
        "token": Operation(
            _object({"token": secret, "expires_at": _TIME}),
            _merge(
                COMMON,
                BODY,
                {
                    401: ("auth.invalid", "auth.expired"),
                    403: ("access.forbidden",),
                    409: ("auth.replay",),
                },
            ),
        ),
        "key_count": Operation(
            _object({"unclaimed": _INT, "fallback": {"type": "boolean"}}), _merge(COMMON, AUTH)
        ),
        "upload_keys": Operation(
            _object({"unclaimed": _INT}), _merge(COMMON, AUTH, BODY, {409: ("store.conflict",)})
        ),
        "upload_fallback": Operation(
            _object({"fallback": {"const": True}}), _merge(COMMON, AUTH, BODY)
        ),
        "claim_key": Operation(
            _object(
                {
                    "device_id": id_schema,
                    "key_id": id_schema,
                    "key": key,
                    "fallback": {"type": "boolean"},
                }
            ),
            _merge(
                COMMON,
                AUTH,
                BODY,
                {404: ("resource.not_found", "keys.exhausted"), 409: ("keys.claimed",)},
            ),
        ),
        "create_talks": Operation(
            _object({"talks_id": id_schema, "created_at": _TIME}),
            _merge(COMMON, AUTH, BODY),
            links=talks_links,
        ),
        "get_talks": Operation(
            _object(
                {
                    "talks_id": id_schema,
                    "creator_device": id_schema,
                    "created_at": _TIME,
                    "last_seq": _INT,
                    "members": {"type": "array", "items": device},
                }
            ),
            talks_read,
            (talks_id,),
        ),
        "create_invite": Operation(
            _object({"code": secret, "expires_at": _TIME}),
            _merge(talks_read, BODY),
            (talks_id,),
            links={"AcceptInvite": ("accept_invite", {}, {"code": "$response.body#/code"})},
        ),
        "accept_invite": Operation(
            _object({"talks_id": id_schema}),
            _merge(COMMON, AUTH, BODY, {404: ("invite.invalid",)}),
        ),
        "send": Operation(
            send_response,
            _merge(talks_read, BODY),
            (talks_id,),
            also=(200,),
        ),
        "log_key": Operation(
            _object(
                {
                    "algorithm": {"const": "ed25519"},
                    "public_key": key,
                    "host_name": {"type": "string"},
                    "origin_prefix": {"type": "string"},
                }
            ),
            COMMON,
        ),
        "log_checkpoint": Operation(
            _object(
                {
                    "origin": {"type": "string"},
                    "tree_size": _INT,
                    "root": key,
                    "checkpoint": {"type": "string"},
                    "vkey": {"type": "string"},
                }
            ),
            talks_read,
            (talks_id,),
        ),
        "log_inclusion": Operation(
            _object({"leaf_index": _INT, "tree_size": _INT, "path": hashes}),
            log_read,
            (talks_id, Param("index", "query", index, True), Param("size", "query", index)),
        ),
        "log_consistency": Operation(
            _object({"from": _INT, "to": _INT, "path": hashes}),
            log_read,
            (talks_id, Param("from", "query", index, True), Param("to", "query", index)),
        ),
        "log_entries": Operation(
            _object(
                {
                    "start": _INT,
                    "tree_size": _INT,
                    "entries": {"type": "array", "items": {"type": "string"}},
                }
            ),
            log_read,
            (talks_id, Param("start", "query", index, True), Param("end", "query", index)),
        ),
        "sync": Operation(
            _object({"deliveries": {"type": "array", "items": delivery}, "next": _INT}),
            _merge(COMMON, AUTH, INPUT),
            (
                Param("since", "query", Integer(0, 2**62)),
                Param("timeout", "query", Integer(0, limits.max_sync_timeout_s)),
                Param("limit", "query", Integer(1, limits.max_sync_limit)),
            ),
        ),
        "ack": Operation(_object({"acked": _INT}), _merge(COMMON, AUTH, BODY)),
        "sync_upgrade": Operation(
            _object({}),
            _merge(INPUT, {426: ("request.upgrade_required",)}),
            (
                Param("since", "query", Integer(0, 2**62)),
                Param("limit", "query", Integer(1, limits.max_sync_limit)),
            ),
        ),
        **_blob_operations(limits, talks_id, talks_read),
        "health": Operation(_object({"status": {"const": "ok"}}), {}),
        "openapi": Operation({"type": "object"}, {}),
    }


def _blob_operations(
    limits: Limits, talks_id: Param, talks_read: Mapping[int, tuple[str, ...]]
) -> dict[str, Operation]:
    """The blob routes' contracts (documents' ciphertext in chunks)."""
    ident = Id(limits.max_id_length)
    blob_id = Param("blob_id", "path", ident)
    index = Param("index", "path", Integer(0, 1_000_000))
    state = _object(
        {
            "blob_id": ident.json_schema(),
            "chunks": {"type": "integer", "minimum": 1},
            "size": {"type": "integer", "minimum": 1},
            "stored": _INT,
            "missing": {"type": "array", "items": _INT},
            "complete": {"type": "boolean"},
        }
    )
    chunk = _object({"index": _INT, "data": Binary(max_size=limits.max_chunk_bytes).json_schema()})
    write = _merge(talks_read, BODY, {409: ("store.conflict",)})
    return {
        "declare_blob": Operation(state, write, (talks_id, blob_id)),
        "get_blob": Operation(state, talks_read, (talks_id, blob_id)),
        "put_chunk": Operation(state, write, (talks_id, blob_id, index)),
        "get_chunk": Operation(
            chunk, _merge(talks_read, {409: ("blob.incomplete",)}), (talks_id, blob_id, index)
        ),
    }
