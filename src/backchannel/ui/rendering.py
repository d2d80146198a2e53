"""PDF pages as images, rendered on the device: what the Documents panel shows of a PDF.

The page never receives a PDF to open (a browser's PDF viewer would be another program reading
the file, and the page's CSP has no frames). The app renders the member's **own stamped copy**
— the file ``doc get`` would write, carrying this member's visible line and hidden marks —
page by page with ``pdftoppm`` (poppler-utils), in a private scratch directory inside the
profile that is removed at once, and answers PNG bytes. A screenshot of the panel is therefore a
picture of the member's own marked copy. The copy and the pages already rendered are kept in
memory, for a few documents, so paging through one neither fetches nor stamps it again.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from backchannel.documents.pdf import opened
from backchannel.errors import DocumentMalformed, RendererUnavailable

#: Where Debian's poppler-utils installs it (found on the PATH otherwise).
PDFTOPPM = "/usr/bin/pdftoppm"
#: Pixels per inch of a rendered page (an A4 page is about 830 × 1170 pixels).
RESOLUTION = 100
#: How many documents' copies are kept in memory, and how many rendered pages of each.
KEPT = 4
KEPT_PAGES = 24
#: Seconds one page may take to render.
TIMEOUT = 60


@dataclass(slots=True)
class Rendered:
    """One member's stamped copy of a PDF, and the pages rendered from it so far."""

    pdf: bytes
    pages: int
    images: dict[int, bytes] = field(default_factory=dict)


def renderer() -> str:
    """The ``pdftoppm`` to run; RendererUnavailable if poppler-utils is not installed."""
    found = PDFTOPPM if Path(PDFTOPPM).is_file() else shutil.which("pdftoppm")
    if found is None:
        raise RendererUnavailable("pdftoppm (poppler-utils) is not installed on this device.")
    return found


def prepared(pdf: bytes) -> Rendered:
    """A stamped copy ready to render (its page count read); DocumentMalformed if it is not
    a readable PDF."""
    return Rendered(pdf, len(opened(pdf).pages))


def render_page(pdf: bytes, page: int, scratch: Path) -> bytes:
    """Page ``page`` (from 1) of ``pdf`` as PNG bytes, rendered in a directory under
    ``scratch`` that is removed before returning."""
    with tempfile.TemporaryDirectory(prefix=".bc-render-", dir=scratch) as work:
        source, target = Path(work) / "copy.pdf", Path(work) / "page"
        source.write_bytes(pdf)
        argv = [renderer(), "-f", str(page), "-l", str(page), "-r", str(RESOLUTION)]
        try:
            subprocess.run(
                [*argv, "-png", "-singlefile", str(source), str(target)],
                check=True,
                capture_output=True,
                timeout=TIMEOUT,
            )
            return target.with_suffix(".png").read_bytes()
        except (subprocess.SubprocessError, OSError) as exc:
            raise DocumentMalformed("This PDF's page could not be rendered.") from exc


class Cache:
    """The last few documents' stamped copies and their rendered pages, by key."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._items: OrderedDict[tuple[str, ...], Rendered] = OrderedDict()
        self._lock = threading.Lock()  # requests run in worker threads

    def get(self, key: tuple[str, ...]) -> Rendered | None:
        """The copy kept under ``key``, if any (now the most recently used)."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], rendered: Rendered) -> None:
        """Keep ``rendered``, forgetting the least recently used beyond the limit."""
        with self._lock:
            self._items[key] = rendered
            self._items.move_to_end(key)
            while len(self._items) > self._kept:
                self._items.popitem(last=False)
