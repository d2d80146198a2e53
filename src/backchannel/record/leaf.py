"""Leaf commitments: what the record stores for an event instead of the event.

A leaf is ``SHA-256(salt || canonical(event))`` with a fresh 32-byte salt per event. The host
and any outsider see only these hashes, which look random: without the salt they cannot test a
guess such as "was there a contact request from party A on Tuesday?". A participant holding the
salt and the event can show anyone that the leaf opens to exactly that event.

The canonical encoding is RFC 8785 (JCS) restricted to values that have one obvious meaning:
every string (keys included) is first normalised to Unicode NFC, numbers must be integers in the
I-JSON safe range ``±(2**53 - 1)`` (no floats at all, so no float formatting questions), object
keys are sorted by UTF-16 code units as JCS says, and the output is UTF-8 with no whitespace.
For such values the bytes are exactly the JCS bytes of the NFC-normalised value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence

from backchannel.errors import EventNotCanonical, InputError

__all__ = ["SALT_SIZE", "canonical_event", "commit", "opens"]

SALT_SIZE = 32
"""Bytes of salt per leaf; fixed so ``salt || event`` splits only one way."""

_SAFE_INT = 2**53 - 1
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')  # a string JCS writes as it is, between quotes
_MAX_DEPTH = 64


def canonical_event(event: Mapping[str, object]) -> bytes:
    """Return the canonical UTF-8 JSON of ``event`` (a dict of JSON-able values).

    Raises :class:`EventNotCanonical` for floats, integers beyond ``±(2**53 - 1)``, non-string
    keys, keys that collide after NFC normalisation, lone surrogates, other types, or nesting
    deeper than 64 levels.
    """
    if not isinstance(event, Mapping):
        raise EventNotCanonical(
            "An event must be a JSON object.", detail={"type": type(event).__name__}
        )
    parts: list[str] = []
    _encode(event, parts, 0)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EventNotCanonical("An event contains an unpaired surrogate.") from exc


def _string(value: str) -> str:
    if not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    if _PLAIN.fullmatch(value):  # the common case, and much faster than json.dumps
        return f'"{value}"'
    # json.dumps with ensure_ascii=False escapes exactly what JCS escapes: '"', '\\' and the
    # controls below U+0020 (short forms for \b \t \n \f \r, lowercase \u00xx otherwise).
    return json.dumps(value, ensure_ascii=False)


def _encode(value: object, out: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise EventNotCanonical(f"An event is nested deeper than {_MAX_DEPTH} levels.")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -_SAFE_INT <= value <= _SAFE_INT:
            raise EventNotCanonical(
                "An event integer is outside ±(2**53 - 1).", detail={"value": value}
            )
        out.append(str(int(value)))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping):
        items: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EventNotCanonical(
                    "An event object key is not a string.", detail={"key": repr(key)}
                )
            norm = unicodedata.normalize("NFC", key)
            if norm in items:
                raise EventNotCanonical(
                    "Two event keys are the same after NFC normalisation.", detail={"key": norm}
                )
            items[norm] = item
        out.append("{")
        for n, key in enumerate(
            sorted(items, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        ):
            if n:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _encode(items[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, float):
        raise EventNotCanonical("An event contains a float; use integers or strings.")
    else:
        raise EventNotCanonical(
            "An event contains a value JSON cannot carry.", detail={"type": type(value).__name__}
        )


def commit(salt: bytes, event: Mapping[str, object]) -> bytes:
    """Return the leaf commitment ``SHA-256(salt || canonical_event(event))``.

    ``salt`` must be 32 bytes from a secure random source chosen by the caller, fresh for
    each event; the record never draws randomness itself.
    """
    if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
        raise InputError(f"A leaf salt must be {SALT_SIZE} bytes.")
    return hashlib.sha256(salt + canonical_event(event)).digest()


def opens(commitment: bytes, salt: bytes, event: Mapping[str, object]) -> bool:
    """Return whether ``commitment`` is the commitment of ``event`` under ``salt``.

    Never raises on bad input: a wrong-sized salt or an event that cannot be encoded simply
    does not open the commitment.
    """
    try:
        expected = commit(salt, event)
    except (EventNotCanonical, InputError):
        return False
    return isinstance(commitment, bytes) and hmac.compare_digest(expected, commitment)
