"""Events as plain JSON-able dicts, and back: the one encoding the wire and the record share.

``encode`` writes every field of an event, with its ``action``; times become ISO 8601 strings with
their offset, levels and labels their names, version numbers stay integers. ``names`` (a name in
other languages) is an object of tag to name, and is left out when there are none, so an event
without them encodes — and is signed and logged — exactly as before the field existed.
``decode`` is strict — unknown actions, missing or extra fields, wrong types and times without
an offset are refused with :class:`EventMalformed` naming the field — because its input comes
from other devices and must not be trusted. The output of ``encode`` is accepted by
:func:`backchannel.record.leaf.canonical_event`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from backchannel.engine import events as ev
from backchannel.engine.names import Names
from backchannel.engine.rules import Action, Label, Level, RelayMode, Role, RoomKind
from backchannel.errors import EventMalformed

Encoded = dict[str, str | bool | int | dict[str, str] | None]

#: Every event class, by the action it performs.
EVENT_TYPES: Mapping[Action, type[ev.Event]] = {
    cls.action: cls
    for cls in (
        ev.AddParty,
        ev.AddMember,
        ev.CreateRoom,
        ev.Join,
        ev.Leave,
        ev.Grant,
        ev.Revoke,
        ev.AddDevice,
        ev.RevokeDevice,
        ev.Send,
        ev.Propose,
        ev.Relay,
        ev.Carry,
        ev.Accept,
        ev.Sign,
        ev.Confirm,
        ev.DraftArticle,
        ev.AgreeArticle,
        ev.InitialArticle,
        ev.SignArticle,
        ev.RequestContact,
        ev.SetRetention,
        ev.Deposit,
        ev.Amend,
        ev.Withdraw,
        ev.DepositNotice,
        ev.AnnounceMatch,
        ev.MatchNotice,
        ev.DirectMatch,
        ev.SetAgenda,
        ev.SubmitScores,
        ev.ScoresNotice,
    )
}


_MAX_TEXT = 64 * 1024
_MAX_INT = 2**53

#: How one field's JSON value becomes its Python value (or raises EventMalformed).
_Decoder = Callable[[str, Any], Any]


def _decoder(hint: Any) -> _Decoder:
    """The decoder of a field of type ``hint``, built once per field (not per event)."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    nullable = type(None) in options
    kind = next(option for option in options if option is not type(None))
    parse = _PARSERS.get(kind)

    def decode_value(name: str, raw: Any) -> Any:
        if kind is Names:
            try:
                return Names.from_json(raw)
            except ValueError as exc:
                raise EventMalformed(name, str(exc)) from None
        if raw is None:
            if nullable:
                return None
            raise EventMalformed(name, "may not be null")
        if kind is bool:
            if not isinstance(raw, bool):
                raise EventMalformed(name, "must be true or false")
            return raw
        if kind is int:
            # A version number: JSON's bool is no number here, and it must stay I-JSON safe.
            if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < _MAX_INT:
                raise EventMalformed(name, f"must be a whole number from 1 to {_MAX_INT - 1}")
            return raw
        if not isinstance(raw, str):
            raise EventMalformed(name, "must be a string")
        if len(raw) > _MAX_TEXT:
            raise EventMalformed(name, f"is longer than {_MAX_TEXT} characters")
        if parse is None:
            return raw
        try:
            return parse(raw)
        except ValueError as exc:
            raise EventMalformed(name, str(exc)) from None

    return decode_value


def _schema(cls: type[ev.Event]) -> dict[str, tuple[_Decoder, bool]]:
    """Field name → (its decoder, required)."""
    hints = typing.get_type_hints(cls)
    return {
        field.name: (_decoder(hints[field.name]), field.default is dataclasses.MISSING)
        for field in dataclasses.fields(cls)
    }


def encode(event: ev.Event) -> Encoded:
    """The event as a flat dict of strings, booleans and None, with its ``action``."""
    out: Encoded = {"action": event.action.value}
    for name in _FIELD_NAMES[type(event)]:
        value = getattr(event, name)
        if isinstance(value, Names):
            if value:  # none: omitted, so older events keep their exact encoding
                out[name] = value.to_json()
            continue
        out[name] = _encode_value(value)
    return out


def decode(data: Mapping[str, Any]) -> ev.Event:
    """The event ``data`` encodes; :class:`EventMalformed` if it is not exactly one."""
    if not isinstance(data, Mapping):
        raise EventMalformed("event", "must be an object")
    action = data.get("action")
    try:
        cls = EVENT_TYPES[Action(str(action))]
    except (ValueError, KeyError):
        raise EventMalformed("action", f"{action!r} is not an event action") from None
    fields = _SCHEMAS[cls.action]
    extra = set(data) - fields.keys() - {"action"}
    if extra:
        raise EventMalformed(sorted(extra)[0], "is not a field of this event")
    values: dict[str, Any] = {}
    for name, (decode_value, required) in fields.items():
        if name not in data:
            if required:
                raise EventMalformed(name, "is missing")
            continue
        values[name] = decode_value(name, data[name])
    return cls(**values)


def _encode_value(value: Any) -> str | bool | int | None:
    if isinstance(value, Enum):
        return value.label if isinstance(value, Level) else str(value.value)
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _time(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("needs a UTC offset")
    return value


def _enum(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            return kind(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not allowed here") from None

    return parse


_PARSERS: dict[Any, Callable[[str], Any]] = {
    datetime: _time,
    Level: _enum(Level.parse),
    Label: _enum(Label),
    RelayMode: _enum(RelayMode),
    Role: _enum(Role),
    RoomKind: _enum(RoomKind),
}


#: Each event class's fields and their decoders, resolved once: ``typing.get_type_hints`` is slow.
_SCHEMAS = {action: _schema(cls) for action, cls in EVENT_TYPES.items()}
_FIELD_NAMES = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()}
