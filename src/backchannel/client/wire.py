"""What devices send each other inside their Olm envelopes: typed, frozen items, one strict codec.

A payload is ``{"v": 1, "items": [...]}``, each item an object with a ``kind`` and exactly the
fields of that kind; binary fields are canonical standard base64. :func:`decode` refuses anything
else with :class:`~backchannel.errors.WireMalformed` naming the field, because its input comes
from other devices and is not to be trusted. The kinds:

- :class:`EventItem` — an engine event (``codec.encode`` form) and what proves it: the actor's
  signature over the act statement (:mod:`.acts`), the digest of the words a consent binds, the
  salt that opens its record commitment (or, for a form that cannot open it — a relay's carry —
  the commitment it belongs to), a mandate token, a verbatim carry's signed original, and whether
  it is forwarded (an older act passed on in a backlog);
- :class:`Introduce` — a device's signed introduction, with an invite's secret when it asks to
  be admitted;
- :class:`Greet` — a device has passed on everything it did before it knew the recipient;
- :class:`Cosigned` — a checkpoint the sender cosigned, with the digest of its talks-wide state
  at that size;
- :class:`SasKey` — one side's ephemeral key of a short-authentication-string exchange;
- :class:`Psi` — one round of a direct match (:mod:`.direct_session`): its session id, its
  round (:data:`PSI_ROUNDS`) and the round's bytes, sent only to the other party's devices.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backchannel.crypto.signed import canonical_json
from backchannel.errors import WireMalformed

VERSION = 1


@dataclass(frozen=True, slots=True)
class Original:
    """A verbatim carry's original words, as their author signed them."""

    event: Mapping[str, Any]
    signature: bytes


@dataclass(frozen=True, slots=True)
class EventItem:
    """An event and what proves it (see the module's header)."""

    event: Mapping[str, Any]
    signature: bytes | None = None
    words: bytes | None = None
    salt: bytes | None = None
    commitment: bytes | None = None
    mandate: str | None = None
    original: Original | None = None
    forwarded: bool = False


@dataclass(frozen=True, slots=True)
class Introduce:
    """A device's introduction (``Introduction.to_json``), and an invite's secret to be
    admitted with."""

    intro: Mapping[str, Any]
    invite: bytes | None = None


@dataclass(frozen=True, slots=True)
class Greet:
    """The sender has passed on every act of its own the recipient may know."""


@dataclass(frozen=True, slots=True)
class Cosigned:
    """A checkpoint the sender cosigned, and the digest of its talks-wide state at its size."""

    note: str
    digest: bytes | None


@dataclass(frozen=True, slots=True)
class SasKey:
    """One side's ephemeral key of a SAS exchange."""

    key: bytes


#: A direct match's rounds: the four PSI messages (``crypto/psi.py``), then each side's disclosure.
PSI_ROUNDS = range(1, 6)
#: A session id: lowercase hex, as :mod:`.direct_session` draws it.
PSI_SESSION_CHARS = 32
#: The most bytes of a round one item carries: a round is cut into parts, each sent alone, so
#: every ciphertext stays under the host's limit (``Limits.max_ciphertext_bytes``).
PSI_PART_BYTES = 16 * 1024
#: The most parts a round may be cut into (two point lists of ``psi.MAX_SIZE`` in hex, with room).
PSI_MAX_PARTS = 256


@dataclass(frozen=True, slots=True)
class Psi:
    """One part of a direct match's round: its session, round, part (of ``parts``) and bytes."""

    session: str
    round: int
    part: int
    parts: int
    payload: bytes = field(repr=False)


Item = EventItem | Introduce | Greet | Cosigned | SasKey | Psi


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What to put on the wire: items per host device, and for a recorded act its record entry,
    its commitment (what a refused send forgets) and the id the host deduplicates it by (a send
    repeated after a crash is recorded once)."""

    payloads: Mapping[str, list[Item]]
    entry: bytes | None = None
    commitment: bytes | None = None
    client_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """As the profile keeps a recorded act until the host acknowledged it."""
        return {
            "payloads": {d: [item_json(i) for i in items] for d, items in self.payloads.items()},
            "entry": _b64(self.entry),
            "commitment": _b64(self.commitment),
            "client_id": self.client_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outgoing:
        """An outgoing send from :meth:`to_json`."""
        return cls(
            payloads={
                d: [item_from_json(i) for i in items] for d, items in data["payloads"].items()
            },
            entry=_binary(data["entry"], "entry"),
            commitment=_binary(data["commitment"], "commitment", size=32),
            client_id=data["client_id"],
        )


# --- encoding ----------------------------------------------------------------------------------


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def item_json(item: Item) -> dict[str, Any]:
    """One item as a JSON object (also how the profile stores held events)."""
    match item:
        case EventItem():
            original = item.original
            return {
                "kind": "event",
                "event": dict(item.event),
                "signature": _b64(item.signature),
                "words": _b64(item.words),
                "salt": _b64(item.salt),
                "commitment": _b64(item.commitment),
                "mandate": item.mandate,
                "original": None
                if original is None
                else {"event": dict(original.event), "signature": _b64(original.signature)},
                "forwarded": item.forwarded,
            }
        case Introduce():
            return {"kind": "introduce", "intro": dict(item.intro), "invite": _b64(item.invite)}
        case Greet():
            return {"kind": "greet"}
        case Cosigned():
            return {"kind": "cosigned", "note": item.note, "digest": _b64(item.digest)}
        case SasKey():
            return {"kind": "sas", "key": _b64(item.key)}
        case Psi():
            payload = _b64(item.payload)
            return {
                "kind": "psi",
                "session": item.session,
                "round": item.round,
                "part": item.part,
                "parts": item.parts,
                "payload": payload,
            }
    raise TypeError(f"not a wire item: {item!r}")


def encode(items: Sequence[Item]) -> bytes:
    """The payload carrying ``items``, in its one byte encoding."""
    return canonical_json({"v": VERSION, "items": [item_json(i) for i in items]})


# --- decoding ----------------------------------------------------------------------------------

_FIELDS: Mapping[str, frozenset[str]] = {
    "event": frozenset(
        {"kind", "event", "signature", "words", "salt", "commitment", "mandate", "original"}
        | {"forwarded"}
    ),
    "introduce": frozenset({"kind", "intro", "invite"}),
    "greet": frozenset({"kind"}),
    "cosigned": frozenset({"kind", "note", "digest"}),
    "sas": frozenset({"kind", "key"}),
    "psi": frozenset({"kind", "session", "round", "part", "parts", "payload"}),
}


def decode(payload: bytes) -> list[Item]:
    """The items a payload holds; :class:`WireMalformed` naming the field otherwise."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireMalformed("payload", "is not JSON") from exc
    if not isinstance(data, dict) or set(data) != {"v", "items"} or data["v"] != VERSION:
        raise WireMalformed("payload", f"is not a version {VERSION} payload")
    if not isinstance(data["items"], list):
        raise WireMalformed("items", "must be a list")
    return [item_from_json(raw, f"items[{n}]") for n, raw in enumerate(data["items"])]


def item_from_json(raw: Any, where: str = "item") -> Item:
    """The item a JSON object describes, strictly."""
    if not isinstance(raw, dict):
        raise WireMalformed(where, "must be an object")
    kind = raw.get("kind")
    fields = _FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise WireMalformed(f"{where}.kind", f"{kind!r} is not an item kind")
    if set(raw) != fields:
        odd = sorted(set(raw) ^ fields)[0]
        raise WireMalformed(f"{where}.{odd}", "is missing" if odd in fields else "is not a field")
    match kind:
        case "event":
            return EventItem(
                event=_object(raw["event"], f"{where}.event"),
                signature=_binary(raw["signature"], f"{where}.signature"),
                words=_binary(raw["words"], f"{where}.words", size=32),
                salt=_binary(raw["salt"], f"{where}.salt", size=32),
                commitment=_binary(raw["commitment"], f"{where}.commitment", size=32),
                mandate=_text(raw["mandate"], f"{where}.mandate"),
                original=_original(raw["original"], f"{where}.original"),
                forwarded=_flag(raw["forwarded"], f"{where}.forwarded"),
            )
        case "introduce":
            return Introduce(
                intro=_object(raw["intro"], f"{where}.intro"),
                invite=_binary(raw["invite"], f"{where}.invite"),
            )
        case "greet":
            return Greet()
        case "cosigned":
            note = _text(raw["note"], f"{where}.note")
            if note is None:
                raise WireMalformed(f"{where}.note", "may not be null")
            return Cosigned(note=note, digest=_binary(raw["digest"], f"{where}.digest", size=32))
        case "psi":
            return _psi(raw, where)
    key = _binary(raw["key"], f"{where}.key")
    if key is None:
        raise WireMalformed(f"{where}.key", "may not be null")
    return SasKey(key=key)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise WireMalformed(where, "must be an object")
    return value


def _text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise WireMalformed(where, "must be a string or null")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise WireMalformed(where, "must be true or false")
    return value


def _binary(value: Any, where: str, *, size: int | None = None) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise WireMalformed(where, "must be base64 or null")
    try:
        data = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise WireMalformed(where, "is not base64") from exc
    if base64.b64encode(data).decode("ascii") != value:
        raise WireMalformed(where, "is not canonical base64")
    if size is not None and len(data) != size:
        raise WireMalformed(where, f"must be {size} bytes")
    return data


def _original(value: Any, where: str) -> Original | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"event", "signature"}:
        raise WireMalformed(where, "holds exactly event and signature")
    signature = _binary(value["signature"], f"{where}.signature")
    if signature is None:
        raise WireMalformed(f"{where}.signature", "may not be null")
    return Original(event=_object(value["event"], f"{where}.event"), signature=signature)


def _psi(raw: Mapping[str, Any], where: str) -> Psi:
    session, number, part, parts = raw["session"], raw["round"], raw["part"], raw["parts"]
    if (
        not isinstance(session, str)
        or len(session) != PSI_SESSION_CHARS
        or any(c not in "0123456789abcdef" for c in session)
    ):
        raise WireMalformed(f"{where}.session", f"must be {PSI_SESSION_CHARS} lowercase hex digits")
    if type(number) is not int or number not in PSI_ROUNDS:
        raise WireMalformed(f"{where}.round", f"must be a round from 1 to {PSI_ROUNDS[-1]}")
    if type(parts) is not int or not 1 <= parts <= PSI_MAX_PARTS:
        raise WireMalformed(f"{where}.parts", f"must be from 1 to {PSI_MAX_PARTS}")
    if type(part) is not int or not 0 <= part < parts:
        raise WireMalformed(f"{where}.part", "must be from 0 to parts - 1")
    encoded = raw["payload"]
    if not isinstance(encoded, str) or len(encoded) > (PSI_PART_BYTES + 2) // 3 * 4:
        raise WireMalformed(f"{where}.payload", f"must be base64 of at most {PSI_PART_BYTES} bytes")
    payload = _binary(encoded, f"{where}.payload")
    if not payload:
        raise WireMalformed(f"{where}.payload", "may not be null or empty")
    return Psi(session=session, round=number, part=part, parts=parts, payload=payload)
