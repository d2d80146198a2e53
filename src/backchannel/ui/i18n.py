"""The web app's languages: gettext catalogues read with Babel, and choosing one per request.

Each language has a ``locale/<lang>.po`` catalogue shipped in the package; its ``msgid`` is the
English sentence the page asks for, so English needs no translations and a missing one falls back
to English. The page receives its language's catalogue as one JSON object and translates itself;
the text direction of a language comes from Babel's locale data (``rtl`` for Arabic and Persian).

The language is chosen by ``?lang=`` (then remembered in a cookie), else that cookie, else the
browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from babel import Locale
from babel.messages.pofile import read_po

#: The languages the app speaks, in the order the language selector lists them.
LANGUAGES = ("en", "ar", "fa")
DEFAULT = "en"
COOKIE = "backchannel-ui-lang"


@dataclass(frozen=True, slots=True)
class Language:
    """One UI language: its code, its name in itself, its direction and its translations."""

    code: str
    name: str
    direction: str
    strings: dict[str, str]


def load(code: str) -> Language:
    """The language ``code``, with its catalogue read from the package."""
    locale = Locale.parse(code)
    source = resources.files("backchannel.ui").joinpath("locale", f"{code}.po")
    with source.open("rb") as handle:
        catalogue = read_po(handle, locale=code, abort_invalid=True)
    strings = {
        str(message.id): str(message.string)
        for message in catalogue
        if message.id and isinstance(message.id, str) and message.string
    }
    return Language(
        code=code,
        name=str(locale.get_display_name(locale)),
        direction=str(locale.text_direction),
        strings=strings,
    )


def load_all() -> dict[str, Language]:
    """Every language the app speaks, by code."""
    return {code: load(code) for code in LANGUAGES}


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language for a request: the query's, the cookie's, the browser's first known, or en."""
    for given in (query, cookie):
        if given in LANGUAGES:
            return given
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT
