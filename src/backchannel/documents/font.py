"""The font PDF copies are set in, found on this machine.

One font for every script: DejaVu Sans (Debian's ``fonts-dejavu-core``) covers Latin, Cyrillic,
Greek, Arabic and Persian, so HarfBuzz shapes a mixed line as one run in one font, and its no-break
space is a glyph of its own. That last point is why it is chosen over the nicer Noto Naskh Arabic,
which draws U+0020 and U+00A0 with one glyph: a PDF maps each glyph back to one character, so with
Noto the marks in the visible text would come back as plain spaces. ``BACKCHANNEL_FONT`` names
another TrueType file (it must keep those two glyphs apart for the visible text to carry marks; the
hidden layer carries them whatever the font). ``make`` installs the Debian package.
"""

from __future__ import annotations

import os
from pathlib import Path

from backchannel.errors import FontMissing

#: Where Debian's fonts-dejavu-core puts the font.
DEFAULT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
VARIABLE = "BACKCHANNEL_FONT"


def path() -> Path:
    """The TrueType file to embed: ``$BACKCHANNEL_FONT``, else Debian's DejaVu Sans."""
    chosen = Path(os.environ.get(VARIABLE) or DEFAULT)
    if not chosen.is_file():
        raise FontMissing(
            f"The font for PDF copies is not installed ({chosen}): install Debian's "
            f"fonts-dejavu-core (make does), or name a TrueType file in ${VARIABLE}.",
            detail={"path": str(chosen)},
        )
    return chosen
