"""Names: one name of a party, member, room or talks in other languages than its default.

An event keeps its ``name`` (the default, shown when the reader's language has none) and may add
``names``: the same name in other languages, keyed by a short language tag (``ar``, ``fa``,
``zh-Hant``). The value is small and strict because it comes from other devices: at most
:data:`MAX_LANGUAGES` tags, each matching :data:`TAG`, each name at most :data:`MAX_LENGTH`
characters and not blank. Invalid input raises :class:`ValueError` with the reason; each boundary
(the event codec, the scenario loader, the invite) words it as its own error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: A language tag: a primary language and optional subtags (a simple form of BCP 47).
TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")
MAX_LANGUAGES = 16
MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Names:
    """A name in other languages, by language tag, in tag order (hashable, like every event)."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, names: Mapping[str, str] | None = None) -> Names:
        """The names of ``names`` (tag → name), checked; :class:`ValueError` names a bad one."""
        return cls.from_json({} if names is None else dict(names))

    @classmethod
    def from_json(cls, raw: Any) -> Names:
        """The names a JSON object holds; :class:`ValueError` if it is not exactly such."""
        if not isinstance(raw, dict):
            raise ValueError("must be an object of language tag to name")
        if len(raw) > MAX_LANGUAGES:
            raise ValueError(f"holds more than {MAX_LANGUAGES} languages")
        for tag, name in raw.items():
            if not isinstance(tag, str) or not TAG.fullmatch(tag):
                raise ValueError(f"{tag!r} is not a language tag such as ar or fa")
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"the name in {tag} must be non-empty text")
            if len(name) > MAX_LENGTH:
                raise ValueError(f"the name in {tag} is longer than {MAX_LENGTH} characters")
        return cls(tuple(sorted(raw.items())))

    def to_json(self) -> dict[str, str]:
        """Tag → name, as :meth:`from_json` reads it."""
        return dict(self.items)

    def in_lang(self, lang: str, default: str) -> str:
        """In ``lang`` (or its primary language: ``fa`` for ``fa-IR``), else ``default``."""
        found = dict(self.items)
        return found.get(lang) or found.get(lang.split("-", 1)[0]) or default

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)


#: No names in other languages: the default of every event's ``names``.
NO_NAMES = Names()
