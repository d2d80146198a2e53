"""A persistent, insertion-ordered mapping: what the talks' state keeps its entities in.

:func:`engine.apply` never mutates a state: each event gives a new one. With plain dicts, adding a
message copies the whole table, so replaying a long record costs the square of its length.
:class:`Table` shares structure instead: ``set`` is O(log n) (a hash array mapped trie,
``immutables.Map``), and iteration keeps the order keys were first set in, as a dict's does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, ValuesView
from typing import Generic, TypeVar

import immutables

V = TypeVar("V")


class Table(Mapping[str, V], Generic[V]):
    """A mapping that is never changed: :meth:`set` returns a new one."""

    __slots__ = ("_cells", "_count", "_order")

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        cells: immutables.Map[str, tuple[int, V]] = immutables.Map()
        count = 0
        if items:
            with cells.mutate() as building:
                for key, value in items.items():
                    building[key] = (count, value)
                    count += 1
                cells = building.finish()
        self._cells = cells
        self._count = count
        self._order: tuple[str, ...] | None = None

    def set(self, key: str, value: V) -> Table[V]:
        """A table with ``key`` set to ``value`` (keeping ``key``'s place if it was there)."""
        found = self._cells.get(key)
        twin: Table[V] = Table.__new__(Table)
        place = self._count if found is None else found[0]
        twin._cells = self._cells.set(key, (place, value))
        twin._count = self._count + (found is None)
        twin._order = None
        return twin

    def __getitem__(self, key: str) -> V:
        return self._cells[key][1]

    def __contains__(self, key: object) -> bool:
        return key in self._cells

    def __len__(self) -> int:
        return len(self._cells)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def _keys(self) -> tuple[str, ...]:
        if self._order is None:
            cells = self._cells
            self._order = tuple(sorted(cells, key=lambda k: cells[k][0]))
        return self._order

    def values(self) -> ValuesView[V]:
        """The values in order (a sequence, read once per table: tables never change)."""
        cells = self._cells
        return _Values([cells[k][1] for k in self._keys()])

    def __repr__(self) -> str:
        return f"Table({dict(self.items())!r})"


class _Values(ValuesView[V]):
    """A table's values, already read out."""

    __slots__ = ("_found",)

    def __init__(self, found: list[V]) -> None:
        super().__init__({})
        self._found = found

    def __iter__(self) -> Iterator[V]:
        return iter(self._found)

    def __len__(self) -> int:
        return len(self._found)

    def __contains__(self, value: object) -> bool:
        return value in self._found
