"""The two things a page asks the device to do, parsed and checked before anything is acted on.

A request body is a JSON object; a missing or wrongly typed field is a :class:`FormInvalid`
naming it (HTTP 400) and nothing is done. In particular a message's carry label is never
defaulted: a page that sends none gets a 400, whatever it meant. What the *rules* allow (who may
relay what, where) is not checked here but by the device's engine, which refuses with its own code.
Other pages' modules parse their own bodies with the same public helpers (:func:`json_object`,
:func:`text_field`, :func:`choice_field`).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from backchannel.engine.rules import Label, RelayMode
from backchannel.errors import FormInvalid

#: The longest message text the page may send (characters).
MAX_TEXT = 20_000

_Choice = TypeVar("_Choice", Label, RelayMode)


@dataclass(frozen=True, slots=True)
class SendForm:
    """Say ``text`` in ``room`` of ``talks`` under ``label``."""

    talks: str
    room: str
    text: str
    label: Label
    lang: str = ""


@dataclass(frozen=True, slots=True)
class RelayForm:
    """Carry message ``source`` into ``room``, verbatim or as a gist in ``text``."""

    talks: str
    source: str
    room: str
    mode: RelayMode
    text: str = ""
    lang: str = ""


def parse_send(body: bytes) -> SendForm:
    """A send request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "room", "text", "label", "lang"))
    return SendForm(
        talks=text_field(data, "talks"),
        room=text_field(data, "room"),
        text=text_field(data, "text", limit=MAX_TEXT),
        label=choice_field(data, "label", Label, "choose a carry label: none is chosen for you"),
        lang=text_field(data, "lang", required=False, limit=16),
    )


def parse_relay(body: bytes) -> RelayForm:
    """A relay request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "source", "room", "mode", "text", "lang"))
    return RelayForm(
        talks=text_field(data, "talks"),
        source=text_field(data, "source"),
        room=text_field(data, "room"),
        mode=choice_field(data, "mode", RelayMode, "choose verbatim or gist"),
        text=text_field(data, "text", required=False, limit=MAX_TEXT),
        lang=text_field(data, "lang", required=False, limit=16),
    )


@dataclass(frozen=True, slots=True)
class ContactForm:
    """Ask ``to_party`` to open talks, directly or ``via`` the mediator, saying ``text``."""

    talks: str
    to_party: str
    via: str | None
    text: str


def parse_contact(body: bytes) -> ContactForm:
    """A contact request; :class:`FormInvalid` names the first bad field."""
    data = json_object(body, ("talks", "to", "via", "text"))
    via = text_field(data, "via", required=False)
    return ContactForm(
        talks=text_field(data, "talks"),
        to_party=text_field(data, "to"),
        via=via or None,
        text=text_field(data, "text", required=False, limit=MAX_TEXT),
    )


def json_object(body: bytes, fields: Collection[str]) -> dict[str, Any]:
    """The request body as a JSON object with no field but ``fields``; :class:`FormInvalid`
    ("body", or the first unknown field) otherwise. An unknown field is refused rather than
    ignored: a request shaped by anything but the app's own page is not acted on."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FormInvalid("body", "send one JSON object") from exc
    if not isinstance(data, dict):
        raise FormInvalid("body", "send one JSON object")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise FormInvalid(unknown[0], "is not a field of this request")
    return data


def text_field(data: dict[str, Any], name: str, *, required: bool = True, limit: int = 200) -> str:
    """The string field ``name`` (absent or null is empty), at most ``limit`` characters."""
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FormInvalid(name, "must be a string")
    if required and not value.strip():
        raise FormInvalid(name, "is required")
    if len(value) > limit:
        raise FormInvalid(name, f"is longer than {limit} characters")
    return value


def choice_field(data: dict[str, Any], name: str, kind: type[_Choice], hint: str) -> _Choice:
    """The field ``name`` as one of ``kind``'s values; the ``hint`` and the values otherwise."""
    value = data.get(name)
    try:
        return kind(value if isinstance(value, str) else "")
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise FormInvalid(name, f"{hint} ({allowed})") from None
