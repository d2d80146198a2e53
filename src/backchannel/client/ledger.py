"""The events a device holds, at their places in the record, and the view they fold into.

The record is the order: a device applies every event it holds in log order, its own included.
An event reaches the ledger when it arrives (or, for the device's own act, when it is sent) and
waits until the record's entries show where it sits — the entry whose commitment its salt opens,
or for a form that cannot open it (a relay's carry) the commitment it names. :meth:`advance`
then applies the events of entries ``[upto, size)`` in order, each judged by the engine at its
place (``recorded_at``: the host's stamp on its entry). An event that arrives for a place already
passed (a backlog's older acts, a late delivery) rewinds the fold: the view is rebuilt from the
start in record order, so it is always what the record's order gives, whatever the arrival order.

So the view is a pure function of the events held and the record's entries: two devices holding
the same events of the same prefix hold the same view. After each talks-wide act the ledger keeps
a digest of the talks-wide state (:func:`engine.shared_state`), which devices compare.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backchannel import engine
from backchannel.client.wire import EventItem, item_from_json, item_json
from backchannel.crypto import canonical_json
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import ACTIONS
from backchannel.errors import BackchannelError
from backchannel.record.entry import Entry
from backchannel.record.leaf import commit


@dataclass(frozen=True, slots=True)
class Held:
    """An event item this device holds: from which device, and in which delivery (``delivered``
    counts deliveries in arrival order; None for its own acts and forwarded ones)."""

    sender: str
    item: EventItem
    delivered: int | None = None

    @property
    def commitment(self) -> bytes | None:
        """The record commitment this item belongs to: opened by its salt, or named."""
        if self.item.salt is not None:
            return commit(self.item.salt, self.item.event)
        return self.item.commitment

    def to_json(self) -> list[Any]:
        """The held item as the profile stores it."""
        return [self.sender, item_json(self.item), self.delivered]

    @classmethod
    def from_json(cls, data: list[Any]) -> Held:
        """A held item from :meth:`to_json`."""
        item = item_from_json(data[1])
        assert isinstance(item, EventItem)
        return cls(str(data[0]), item, data[2])


@dataclass(frozen=True, slots=True)
class Refused:
    """An event the engine (or a check at its place) refused when the record's order reached it."""

    index: int
    held: Held
    code: str
    message: str


#: A check made at an event's place, before the engine's: raises to refuse it.
PlaceCheck = Callable[[engine.Talks, ev.Event, Held], None]


def digest(view: engine.Talks) -> bytes:
    """The digest of a view's talks-wide state."""
    return hashlib.sha256(canonical_json(engine.shared_state(view))).digest()


class Ledger:
    """One device's events of one talks, by place in the record."""

    def __init__(self, talks_id: str, check: PlaceCheck) -> None:
        self.talks_id = talks_id
        self._check = check
        self.entries: list[Entry] = []
        self._where: dict[bytes, int] = {}
        #: Record index → the event held there, and the host's time stamp of its entry (ms).
        self.placed: dict[int, tuple[Held, int]] = {}
        self.waiting: dict[bytes, Held] = {}
        self.upto = 0
        self.view = engine.Talks(id=talks_id)
        self.applied: list[tuple[int, Held]] = []
        self.refused: list[Refused] = []
        self.digests: list[tuple[int, bytes]] = [(0, digest(self.view))]
        self._rewind: int | None = None
        #: (delivery number, record index) of every delivered event placed, by delivery number.
        self._deliveries: list[tuple[int, int]] = []
        #: Record indexes of events delivered out of record order.
        self.reordered: list[int] = []

    # --- holding -------------------------------------------------------------------------------

    def hold(self, held: Held) -> bool:
        """Keep ``held`` for its place; False if it names no entry or duplicates one held."""
        commitment = held.commitment
        if commitment is None:
            return False
        index = self._where.get(commitment)
        if index is None:
            if commitment in self.waiting:
                return False
            self.waiting[commitment] = held
            return True
        return self._place(index, held)

    def forget(self, commitment: bytes) -> None:
        """Drop an own act that was never recorded (the host refused the send)."""
        self.waiting.pop(commitment, None)

    def index_of(self, commitment: bytes) -> int | None:
        """Where ``commitment`` sits in the entries seen so far."""
        return self._where.get(commitment)

    def _place(self, index: int, held: Held) -> bool:
        known = self.placed.get(index)
        # One event per place: what a salt opens outranks what an item only names.
        if known is not None and (known[0].item.salt is not None or held.item.salt is None):
            return False
        self.placed[index] = (held, self.entries[index].logged_at_ms)
        if held.delivered is not None:
            self._check_delivery_order(held.delivered, index)
        if index < self.upto:
            self._rewind = index if self._rewind is None else min(self._rewind, index)
        return True

    def _check_delivery_order(self, delivered: int, index: int) -> None:
        """An honest host delivers a talks' events in record order: flag a pair it did not."""
        at = bisect.bisect(self._deliveries, (delivered, index))
        before = self._deliveries[at - 1] if at else None
        after = self._deliveries[at] if at < len(self._deliveries) else None
        if (before is not None and before[1] > index) or (after is not None and after[1] < index):
            self.reordered.append(index)
        self._deliveries.insert(at, (delivered, index))

    def extend(self, entries: Iterable[Entry]) -> None:
        """Learn the next entries of the record; waiting events whose entry this is take their
        place."""
        for entry in entries:
            index = len(self.entries)
            self.entries.append(entry)
            self._where.setdefault(entry.commitment, index)
            held = self.waiting.pop(entry.commitment, None)
            if held is not None:
                self._place(index, held)

    # --- folding -------------------------------------------------------------------------------

    def advance(self, size: int) -> list[tuple[int, Held, ev.Event]]:
        """Apply what is held at places ``[upto, size)`` (rebuilding first after a rewind);
        what was newly applied."""
        if self._rewind is not None:
            target = self.upto
            self._reset()
            self._fold(target)
        return self._fold(size)

    def _reset(self) -> None:
        self._rewind = None
        self.upto = 0
        self.view = engine.Talks(id=self.talks_id)
        self.applied, self.refused = [], []
        self.digests = [(0, digest(self.view))]

    def _fold(self, size: int) -> list[tuple[int, Held, ev.Event]]:
        done: list[tuple[int, Held, ev.Event]] = []
        for index in range(self.upto, size):
            found = self.placed.get(index)
            if found is None:
                continue
            held, logged_at = found
            try:
                event = codec.decode(held.item.event)
                at = datetime.fromtimestamp(logged_at / 1000, UTC)
                after = engine.apply(self.view, event, recorded_at=at)
                # The engine's rules first (the same codes as everywhere), then the evidence the
                # act travelled with, judged on the state before it.
                self._check(self.view, event, held)
                self.view = after
            except BackchannelError as exc:
                self.refused.append(Refused(index, held, exc.code, exc.message))
                continue
            self.applied.append((index, held))
            done.append((index, held, event))
            if ACTIONS[event.action].talks_wide:
                self.digests.append((index + 1, digest(self.view)))
        self.upto = max(self.upto, size)
        return done

    def refusal_of(self, commitment: bytes) -> Refused | None:
        """Why the event of ``commitment`` was refused at its place, if it was."""
        index = self._where.get(commitment)
        return next((r for r in self.refused if r.index == index), None)

    def digest_at(self, size: int) -> bytes | None:
        """The talks-wide digest after the first ``size`` entries; None if not applied so far."""
        if size > self.upto:
            return None
        return next(d for at, d in reversed(self.digests) if at <= size)

    # --- persistence ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """What the profile stores: the events held and where (the entries are fetched again)."""
        return {
            "placed": [[i, t, h.to_json()] for i, (h, t) in sorted(self.placed.items())],
            "waiting": [h.to_json() for h in self.waiting.values()],
            "upto": self.upto,
        }

    @classmethod
    def restore(cls, talks_id: str, check: PlaceCheck, state: dict[str, Any]) -> Ledger:
        """A ledger from :meth:`snapshot`, its view folded again."""
        ledger = cls(talks_id, check)
        for index, logged_at, held in state["placed"]:
            ledger.placed[int(index)] = (Held.from_json(held), int(logged_at))
        for held in state["waiting"]:
            found = Held.from_json(held)
            if found.commitment is not None:
                ledger.waiting[found.commitment] = found
        ledger._fold(int(state["upto"]))
        return ledger
