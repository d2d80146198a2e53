"""Request bodies: declared once, parsed strictly, and published as JSON Schema.

A body is an :class:`Object` of named fields. Parsing rejects what is not declared (unknown
fields, null, wrong JSON types, ids outside ``[A-Za-z0-9_-]``, bad base64, sizes and counts over
the limits) with an :class:`~backchannel.errors.InputError` (400) naming the field, so a bad
request changes nothing and never reaches the store; only a body over the byte limit is 413. The
same declarations produce the OpenAPI request schemas, with every one of those constraints
(lengths as base64 text lengths, patterns, bounds), so a request the schema admits is one the
parser admits.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from backchannel.errors import EntryMalformed, InputError
from backchannel.record.entry import COMMITMENT_SIZE, MAX_TAGS, TAG_SIZE, check_entry
from backchannel.server.limits import Limits

_ID = re.compile(r"^[A-Za-z0-9_-]+$")
#: One base64 character (standard alphabet) and a full 4-character group.
_B64 = "[A-Za-z0-9+/]"
_B64_GROUPS = f"(?:{_B64}{{4}})*"
#: Any non-empty padded base64 text.
_B64_ANY = f"^{_B64_GROUPS}(?:{_B64}{{4}}|{_B64}{{2}}==|{_B64}{{3}}=)$"


def b64_length(size: int) -> int:
    """The length of the padded base64 text of ``size`` bytes."""
    return 4 * ((size + 2) // 3)


def b64_exact(size: int) -> str:
    """A pattern matching the padded base64 text of exactly ``size`` bytes."""
    full, rest = divmod(size, 3)
    tail = {0: "", 1: f"{_B64}{{2}}==", 2: f"{_B64}{{3}}="}[rest]
    return f"^{_B64}{{{4 * full}}}{tail}$"


class Field:
    """One JSON value of a body: how to parse it and how to describe it."""

    def parse(self, where: str, value: Any) -> Any:
        """The parsed value, or InputError naming ``where``."""
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of the accepted values."""
        raise NotImplementedError


def _invalid(where: str, reason: str) -> InputError:
    return InputError(f"{where}: {reason}", detail={"field": where})


@dataclass(frozen=True, slots=True)
class Id(Field):
    """An opaque identifier: 1..``max_length`` characters of ``[A-Za-z0-9_-]``."""

    max_length: int

    def parse(self, where: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _invalid(where, "must be a string")
        # fullmatch: "$" alone would accept a trailing newline ("dev-a\n" beside "dev-a").
        if not 1 <= len(value) <= self.max_length or not _ID.fullmatch(value):
            raise _invalid(where, f"must be 1-{self.max_length} characters of A-Z a-z 0-9 _ -")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": _ID.pattern,
            "minLength": 1,
            "maxLength": self.max_length,
        }


@dataclass(frozen=True, slots=True)
class Secret(Field):
    """A code or token the host issued (URL-safe text, as :func:`auth.new_secret` makes it)."""

    max_length: int = 128

    def parse(self, where: str, value: Any) -> str:
        return Id(self.max_length).parse(where, value)

    def json_schema(self) -> dict[str, Any]:
        return Id(self.max_length).json_schema()


@dataclass(frozen=True, slots=True)
class Binary(Field):
    """Bytes as standard base64 with padding; exactly ``size`` bytes, or at most ``max_size``."""

    size: int | None = None
    max_size: int | None = None

    def parse(self, where: str, value: Any) -> bytes:
        if not isinstance(value, str):
            raise _invalid(where, "must be a base64 string")
        if self.max_size is not None and len(value) > 4 * (self.max_size // 3 + 1):
            raise _invalid(where, f"must be at most {self.max_size} bytes")
        try:
            data = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise _invalid(where, "is not valid base64") from exc
        if self.size is not None and len(data) != self.size:
            raise _invalid(where, f"must be {self.size} bytes")
        if self.max_size is not None and len(data) > self.max_size:
            raise _invalid(where, f"must be at most {self.max_size} bytes")
        if not data:
            raise _invalid(where, "must not be empty")
        return data

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "contentEncoding": "base64"}
        if self.size is not None:
            length = b64_length(self.size)
            schema.update(
                pattern=b64_exact(self.size),
                minLength=length,
                maxLength=length,
                description=f"{self.size} bytes, base64",
            )
        else:
            schema.update(pattern=_B64_ANY, minLength=4)
            if self.max_size is not None:
                schema["maxLength"] = b64_length(self.max_size)
                schema["description"] = f"1 to {self.max_size} bytes, base64"
        return schema


@dataclass(frozen=True, slots=True)
class RecordEntry(Field):
    """A record entry as a client sends it: a commitment and recipient tags, in base64."""

    def parse(self, where: str, value: Any) -> bytes:
        data: bytes = Binary(max_size=COMMITMENT_SIZE + MAX_TAGS * TAG_SIZE).parse(where, value)
        try:
            return check_entry(data)
        except EntryMalformed as exc:
            raise _invalid(where, exc.message) from exc

    def json_schema(self) -> dict[str, Any]:
        # 32 + 16k bytes: the base64 text repeats every 48 bytes (64 characters), ending in
        # one of the three lengths 32, 48 or 64 bytes leave (44, 64 or 88 characters).
        assert COMMITMENT_SIZE == 32 and TAG_SIZE == 16
        ends = f"(?:{_B64}{{43}}=|{_B64}{{64}}|{_B64}{{86}}==)"
        return {
            "type": "string",
            "contentEncoding": "base64",
            "pattern": f"^(?:{_B64}{{64}})*{ends}$",
            "minLength": b64_length(COMMITMENT_SIZE),
            "maxLength": b64_length(COMMITMENT_SIZE + MAX_TAGS * TAG_SIZE),
            "description": f"a {COMMITMENT_SIZE}-byte commitment, then 0-{MAX_TAGS} "
            f"{TAG_SIZE}-byte recipient tags, base64",
        }


@dataclass(frozen=True, slots=True)
class Integer(Field):
    """A JSON integer (not a boolean, not a float) within ``[minimum, maximum]``."""

    minimum: int
    maximum: int

    def parse(self, where: str, value: Any) -> int:
        # JSON Schema counts 2.0 as an integer; so do we (but never true or 2.5).
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(where, "must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise _invalid(where, f"must be between {self.minimum} and {self.maximum}")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True, slots=True)
class Array(Field):
    """A JSON array of 1..``max_items`` items."""

    item: Field
    max_items: int

    def parse(self, where: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _invalid(where, "must be an array")
        if not value:
            raise _invalid(where, "must not be empty")
        if len(value) > self.max_items:
            raise _invalid(where, f"must have at most {self.max_items} items")
        return [self.item.parse(f"{where}[{i}]", v) for i, v in enumerate(value)]

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": self.item.json_schema(),
            "minItems": 1,
            "maxItems": self.max_items,
        }


@dataclass(frozen=True, slots=True)
class Map(Field):
    """A JSON object from ids to values, with ``min_items``..``max_items`` entries."""

    key: Id
    value: Field
    max_items: int
    min_items: int = 1

    def parse(self, where: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _invalid(where, "must be an object")
        if len(value) < self.min_items:
            raise _invalid(where, "must not be empty")
        if len(value) > self.max_items:
            raise _invalid(where, f"must have at most {self.max_items} entries")
        return {
            self.key.parse(f"{where} key", k): self.value.parse(f"{where}.{k}", v)
            for k, v in value.items()
        }

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "propertyNames": self.key.json_schema(),
            "additionalProperties": self.value.json_schema(),
            "minProperties": self.min_items,
            "maxProperties": self.max_items,
        }


@dataclass(frozen=True, slots=True)
class Object(Field):
    """A JSON object with exactly the declared fields (the ``optional`` ones may be missing)."""

    fields: dict[str, Field]
    optional: frozenset[str] = field(default_factory=frozenset)
    #: More JSON Schema for a rule across fields (the route enforces it).
    also: dict[str, Any] = field(default_factory=dict)

    def parse(self, where: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _invalid(where, "must be a JSON object")
        unknown = sorted(set(value) - set(self.fields))
        if unknown:
            raise _invalid(where, f"unknown field {unknown[0]!r}")
        parsed: dict[str, Any] = {}
        for name, spec in self.fields.items():
            inner = name if where == "body" else f"{where}.{name}"
            if name not in value:
                if name in self.optional:
                    parsed[name] = None
                    continue
                raise _invalid(inner, "is required")
            if value[name] is None:
                # Absent is how to leave an optional field out; null is no value of any field.
                raise _invalid(inner, "must not be null")
            parsed[name] = spec.parse(inner, value[name])
        return parsed

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {name: spec.json_schema() for name, spec in self.fields.items()},
            "required": sorted(set(self.fields) - self.optional),
            "additionalProperties": False,
            **self.also,
        }


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes, body: Object) -> dict[str, Any]:
    """Decode a request body (UTF-8 JSON, no NaN/Infinity) and parse it against ``body``.

    An empty body stands for ``{}`` when every field is optional (``POST /v1/talks``).
    """
    if not raw.strip() and set(body.fields) <= body.optional:
        return body.parse("body", {})
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError("The body is not valid JSON.", detail={"field": "body"}) from exc
    return body.parse("body", value)


@dataclass(frozen=True, slots=True)
class Schemas:
    """Every request body the host accepts, sized by one :class:`Limits`."""

    register_device: Object
    revoke_device: Object
    challenge: Object
    token: Object
    upload_keys: Object
    claim_key: Object
    fallback_key: Object
    create_invite: Object
    accept_invite: Object
    send: Object
    ack: Object
    empty: Object
    declare_blob: Object
    put_chunk: Object

    @classmethod
    def from_limits(cls, limits: Limits) -> Schemas:
        """Build the bodies with the sizes in ``limits``."""
        device_id = Id(limits.max_id_length)
        key = Binary(size=32)
        signature = Binary(size=64)
        return cls(
            register_device=Object(
                {
                    "device_id": device_id,
                    "identity": key,
                    "curve25519": key,
                    "ed25519": key,
                    "certificate": signature,
                }
            ),
            revoke_device=Object({"signature": signature}, frozenset({"signature"})),
            challenge=Object({"device_id": device_id}),
            token=Object(
                {"device_id": device_id, "challenge": Binary(size=32), "signature": signature}
            ),
            upload_keys=Object(
                {
                    "keys": Array(
                        Object({"key_id": Id(limits.max_id_length), "key": key}),
                        limits.max_one_time_keys,
                    )
                }
            ),
            claim_key=Object(
                {"device_id": device_id, "key_id": Id(limits.max_id_length), "invite": Secret()},
                frozenset({"key_id", "invite"}),
            ),
            fallback_key=Object({"key_id": Id(limits.max_id_length), "key": key}),
            create_invite=Object(
                {"ttl_seconds": Integer(1, limits.max_invite_ttl_s)}, frozenset({"ttl_seconds"})
            ),
            accept_invite=Object({"code": Secret()}),
            send=Object(
                {
                    "client_msg_id": Id(limits.max_id_length),
                    # Empty only with an entry: an event nobody else may read yet is still recorded.
                    "ciphertexts": Map(
                        device_id,
                        Binary(max_size=limits.max_ciphertext_bytes),
                        limits.max_recipients,
                        min_items=0,
                    ),
                    # The client's commitment and recipient tags; logged (with the host's time)
                    # when present: see record/entry.py.
                    "entry": RecordEntry(),
                },
                frozenset({"entry"}),
                # The route refuses a send with no ciphertext and no entry.
                also={
                    "anyOf": [
                        {"required": ["entry"]},
                        {"properties": {"ciphertexts": {"minProperties": 1}}},
                    ]
                },
            ),
            ack=Object({"positions": Array(Integer(1, 2**62), limits.max_acks)}),
            empty=Object({}),
            declare_blob=Object(
                {
                    "chunks": Integer(1, 1_000_000),
                    "size": Integer(1, limits.max_blob_bytes),
                }
            ),
            put_chunk=Object({"data": Binary(max_size=limits.max_chunk_bytes)}),
        )
