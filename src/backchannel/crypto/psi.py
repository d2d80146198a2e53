"""Two-party private set intersection with mutual output: Diffie–Hellman PSI, sans-I/O.

The construction is the commutative-blinding protocol of Meadows (1986) and Huberman, Franklin
and Hogg (1999), in the prime-order subgroup of edwards25519, composed from libsodium through
PyNaCl; nothing is hand-written:

- an item hashes to a group element as RFC 9380's ``hash_to_curve`` does (and libsodium's own
  ``crypto_core_ed25519_from_hash``, which PyNaCl does not expose): a 64-byte BLAKE2b of the
  domain, the context and the item, split in two, each half mapped with Elligator 2
  (``crypto_core_ed25519_from_uniform``, which clears the cofactor), the two points added;
- each side holds a random secret scalar (``crypto_core_ed25519_scalar_reduce`` of 64 random
  bytes) and blinds with ``crypto_scalarmult_ed25519_noclamp``; H(x)^ab = H(x)^ba, so doubly
  blinded values compare, while a singly blinded one hides x under the DDH assumption.

Four messages, initiator I and responder R, each bound to the talks and session ids:

1. ``Offer`` I → R: I's items blinded by a, sorted (sorting random-looking points shuffles them).
2. ``Reply`` R → I: R's items blinded by b, sorted; and I's points blinded again by b, in I's order.
   I now knows which of its items R holds.
3. ``Finish`` I → R: R's points blinded again by a, in R's order, and I's confirmation: a BLAKE2b
   digest of the transcript and of the items in the intersection (an honest pair holds the same).
4. ``Confirm`` R → I: R's confirmation. Each side's result is final only once the other's
   confirmation equals its own (``psi.result_differs`` otherwise).

Both sets are padded with random points to the session's agreed ``size``, so a side learns the
other's count only as that bound. Every point received is checked (valid, canonical, in the prime-
order subgroup, not the identity, no duplicates, the agreed count, not this side's own points
reflected); a refused message raises the project's error and leaves the session as it was.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from backchannel.errors import (
    PsiDuplicate,
    PsiInvalidPoint,
    PsiMalformed,
    PsiOutOfOrder,
    PsiReflected,
    PsiResultDiffers,
    PsiTooMany,
    PsiWrongContext,
    PsiWrongCount,
)

DOMAIN = b"backchannel/psi/v1"
POINT_BYTES = 32
DIGEST_BYTES = 32
#: Largest agreed size a session accepts: bounds the work a peer can ask for.
MAX_SIZE = 1 << 14


@dataclass(frozen=True, slots=True)
class Offer:
    """Message 1, initiator → responder: the initiator's blinded items."""

    talks: str
    session: str
    points: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """Message 2: the responder's blinded items, and the initiator's blinded again (same order)."""

    talks: str
    session: str
    points: tuple[bytes, ...]
    echoed: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Finish:
    """Message 3: the responder's points blinded again, and the initiator's confirmation."""

    talks: str
    session: str
    echoed: tuple[bytes, ...]
    confirm: bytes


@dataclass(frozen=True, slots=True)
class Confirm:
    """Message 4, responder → initiator: the responder's confirmation."""

    talks: str
    session: str
    confirm: bytes


Message = Offer | Reply | Finish | Confirm


@dataclass(frozen=True, slots=True)
class Result:
    """What one side learned: which of its own items the other holds, and the other's count."""

    matched: frozenset[bytes]
    other_size: int


def _frame(*parts: bytes) -> bytes:
    # Length-prefixed fields: no two different tuples of parts frame to the same bytes.
    return b"".join(len(p).to_bytes(8, "big") + p for p in parts)


def hash_to_point(talks: str, session: str, item: bytes) -> bytes:
    """The group element an item stands for in these talks and this session."""
    wide = blake2b(
        _frame(DOMAIN, talks.encode(), session.encode(), item), digest_size=64, encoder=RawEncoder
    )
    first = sodium.crypto_core_ed25519_from_uniform(wide[:32])
    second = sodium.crypto_core_ed25519_from_uniform(wide[32:])
    return bytes(sodium.crypto_core_ed25519_add(first, second))


def _secret() -> bytes:
    while True:
        scalar = bytes(sodium.crypto_core_ed25519_scalar_reduce(nacl.utils.random(64)))
        if any(scalar):  # zero has probability 2^-252; it would blind everything to the identity
            return scalar


def _blind(scalar: bytes, point: bytes) -> bytes:
    try:
        return bytes(sodium.crypto_scalarmult_ed25519_noclamp(scalar, point))
    except nacl.exceptions.CryptoError as exc:  # libsodium refuses small-order input or output
        raise PsiInvalidPoint("a value is not a valid group element") from exc


def _check_points(points: Sequence[bytes], count: int, what: str) -> None:
    if len(points) != count:
        raise PsiWrongCount(f"{what}: {len(points)} points where {count} were agreed")
    if len(set(points)) != len(points):
        raise PsiDuplicate(f"{what}: the same point appears twice")
    for point in points:
        if len(point) != POINT_BYTES or not sodium.crypto_core_ed25519_is_valid_point(point):
            raise PsiInvalidPoint(f"{what}: a value is not a valid group element")


@dataclass(slots=True)
class Session:
    """One side of a PSI session: feed it the other side's messages, send what it returns.

    ``items`` are this side's byte strings (at most ``size``); both sides must agree ``size``,
    ``talks`` and ``session`` beforehand. The initiator calls :meth:`start`; each side passes
    every message it receives to :meth:`receive` and sends what comes back (None: nothing to
    send). :attr:`result` is available once the other side's confirmation checked out.
    """

    talks: str
    session: str
    items: frozenset[bytes] = field(repr=False)
    initiator: bool
    size: int
    _secret: bytes = field(default=b"", repr=False)
    _mine: tuple[bytes, ...] = field(default=(), repr=False)  # own points, in sent order
    _owner: dict[bytes, bytes] = field(default_factory=dict, repr=False)  # own point → item
    _offer: tuple[bytes, ...] = ()  # the initiator's points as offered
    _theirs: tuple[bytes, ...] = ()  # the responder's points as replied
    _echo_of_offer: tuple[bytes, ...] = ()  # the responder's: the offer blinded again
    _matched: frozenset[bytes] = field(default=frozenset(), repr=False)
    _digest: bytes = b""
    _step: str = "new"
    _result: Result | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls, talks: str, session: str, items: Iterable[bytes], *, initiator: bool, size: int
    ) -> Session:
        """A fresh side: its secret drawn, its items hashed, blinded and padded to ``size``."""
        held = frozenset(items)
        if not 0 < size <= MAX_SIZE:
            raise PsiTooMany(f"a session size of {size} is outside 1..{MAX_SIZE}")
        if len(held) > size:
            raise PsiTooMany(f"{len(held)} items do not fit a session of size {size}")
        self = cls(talks, session, held, initiator, size, _secret=_secret())
        self._owner = {_blind(self._secret, hash_to_point(talks, session, x)): x for x in held}
        points = set(self._owner)
        while len(points) < size:  # dummies are points of random items: alike to the other side
            points.add(_blind(self._secret, hash_to_point(talks, session, nacl.utils.random(32))))
        self._mine = tuple(sorted(points))
        return self

    @property
    def result(self) -> Result:
        """What this side learned; :class:`PsiOutOfOrder` until the session completed."""
        if self._result is None:
            raise PsiOutOfOrder("the session has not completed")
        return self._result

    @property
    def done(self) -> bool:
        """Whether the session completed (the other side's confirmation checked out)."""
        return self._result is not None

    def start(self) -> Offer:
        """The initiator's first message."""
        if not self.initiator or self._step != "new":
            raise PsiOutOfOrder("only a new initiator starts a session")
        self._step = "offered"
        self._offer = self._mine
        return Offer(self.talks, self.session, self._mine)

    def receive(self, message: Message) -> Message | None:
        """Take the other side's message; what to send back, if anything."""
        if (message.talks, message.session) != (self.talks, self.session):
            raise PsiWrongContext("the message belongs to other talks or another session")
        expected = {
            (False, "new"): Offer,
            (True, "offered"): Reply,
            (False, "replied"): Finish,
            (True, "finished"): Confirm,
        }.get((self.initiator, self._step))
        if expected is None or not isinstance(message, expected):
            raise PsiOutOfOrder(f"a {type(message).__name__} is not expected now")
        match message:
            case Offer(points=points):
                return self._on_offer(points)
            case Reply(points=points, echoed=echoed):
                return self._on_reply(points, echoed)
            case Finish(echoed=echoed, confirm=confirm):
                return self._on_finish(echoed, confirm)
            case Confirm(confirm=confirm):
                self._on_confirm(confirm)
                return None
        raise TypeError(message)  # pragma: no cover

    def _on_offer(self, points: tuple[bytes, ...]) -> Reply:
        _check_points(points, self.size, "offer")
        if set(points) & set(self._mine):
            raise PsiReflected("the offer holds this side's own points")
        echoed = tuple(_blind(self._secret, p) for p in points)
        self._offer, self._theirs = points, self._mine
        self._step, self._echo_of_offer = "replied", echoed
        return Reply(self.talks, self.session, self._mine, echoed)

    def _on_reply(self, points: tuple[bytes, ...], echoed: tuple[bytes, ...]) -> Finish:
        _check_points(points, self.size, "reply")
        _check_points(echoed, self.size, "reply (echoed)")
        mine = set(self._mine)
        if set(points) & mine or set(echoed) & mine:
            raise PsiReflected("the reply holds this side's own points, not blinded again")
        twice = {_blind(self._secret, q) for q in points}
        matched = [p for p, e in zip(self._mine, echoed, strict=True) if e in twice]
        self._theirs = points
        self._matched = frozenset(self._owner[p] for p in matched if p in self._owner)
        self._digest = self._confirmation(self._matched)
        self._step = "finished"
        echo = tuple(_blind(self._secret, q) for q in points)
        return Finish(self.talks, self.session, echo, self._digest)

    def _on_finish(self, echoed: tuple[bytes, ...], confirm: bytes) -> Confirm:
        _check_points(echoed, self.size, "finish")
        if set(echoed) & set(self._mine):
            raise PsiReflected("the finish holds this side's own points, not blinded again")
        twice = set(self._echo_of_offer)
        pairs = [p for p, e in zip(self._mine, echoed, strict=True) if e in twice]
        matched = frozenset(self._owner[p] for p in pairs if p in self._owner)
        digest = self._confirmation(matched)
        if not hmac.compare_digest(digest, confirm):
            raise PsiResultDiffers("the initiator confirmed another intersection")
        self._step = "done"
        self._result = Result(matched, self.size)
        return Confirm(self.talks, self.session, digest)

    def _on_confirm(self, confirm: bytes) -> None:
        if not hmac.compare_digest(self._digest, confirm):
            raise PsiResultDiffers("the responder confirmed another intersection")
        self._step = "done"
        self._result = Result(self._matched, self.size)

    def _confirmation(self, intersection: frozenset[bytes]) -> bytes:
        # Over the transcript and the intersection's *items*, which an honest pair holds alike:
        # a point list re-blinded out of order (items misattributed) fails here too.
        parts = [DOMAIN + b"/confirm", self.talks.encode(), self.session.encode()]
        parts += [b"".join(self._offer), b"".join(self._theirs), *sorted(intersection)]
        return bytes(blake2b(_frame(*parts), digest_size=DIGEST_BYTES, encoder=RawEncoder))


# --- the wire form -----------------------------------------------------------------------------

_FIELDS: dict[str, set[str]] = {
    "offer": {"kind", "talks", "session", "points"},
    "reply": {"kind", "talks", "session", "points", "echoed"},
    "finish": {"kind", "talks", "session", "echoed", "confirm"},
    "confirm": {"kind", "talks", "session", "confirm"},
}


def encode(message: Message) -> bytes:
    """Canonical JSON of a message, binary values as lowercase hex."""
    data: dict[str, Any] = {"talks": message.talks, "session": message.session}
    match message:
        case Offer(points=points):
            data |= {"kind": "offer", "points": [p.hex() for p in points]}
        case Reply(points=points, echoed=echoed):
            data |= {"kind": "reply", "points": [p.hex() for p in points]}
            data["echoed"] = [p.hex() for p in echoed]
        case Finish(echoed=echoed, confirm=confirm):
            data |= {
                "kind": "finish",
                "echoed": [p.hex() for p in echoed],
                "confirm": confirm.hex(),
            }
        case Confirm(confirm=confirm):
            data |= {"kind": "confirm", "confirm": confirm.hex()}
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def decode(raw: bytes) -> Message:
    """Parse a message strictly; :class:`PsiMalformed` or :class:`PsiInvalidPoint` otherwise."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PsiMalformed("a PSI message is not JSON") from exc
    if not isinstance(data, dict) or data.get("kind") not in _FIELDS:
        raise PsiMalformed("a PSI message names no known kind")
    kind = data["kind"]
    if set(data) != _FIELDS[kind]:
        raise PsiMalformed(f"a {kind} message has other fields than {sorted(_FIELDS[kind])}")
    talks, session = _text(data["talks"]), _text(data["session"])
    if kind == "offer":
        return Offer(talks, session, _points(data["points"]))
    if kind == "reply":
        return Reply(talks, session, _points(data["points"]), _points(data["echoed"]))
    if kind == "finish":
        return Finish(talks, session, _points(data["echoed"]), _digest(data["confirm"]))
    return Confirm(talks, session, _digest(data["confirm"]))


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise PsiMalformed("talks and session ids are non-empty strings")
    return value


def _hex(value: Any, size: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size or value != value.lower():
        raise PsiMalformed(f"a value is not {size} bytes of lowercase hex")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise PsiMalformed(f"a value is not {size} bytes of lowercase hex") from exc


def _points(value: Any) -> tuple[bytes, ...]:
    if not isinstance(value, list) or len(value) > MAX_SIZE:
        raise PsiMalformed(f"points are a list of at most {MAX_SIZE}")
    points = tuple(_hex(v, POINT_BYTES) for v in value)
    for point in points:
        if not sodium.crypto_core_ed25519_is_valid_point(point):
            raise PsiInvalidPoint("a value is not a valid group element")
    return points


def _digest(value: Any) -> bytes:
    return _hex(value, DIGEST_BYTES)
