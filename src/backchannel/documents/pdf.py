"""A member's own PDF copy: a text set as a PDF, or an uploaded PDF stamped, marked for it.

Every copy carries the recipient's watermark (:mod:`backchannel.engine.watermark`: a no-break
space for some of the spaces between words, chosen by a keyed hash) in two text layers. In a PDF
a mark is written as a no-break space *followed by a word joiner* (U+2060, invisible, no width):
extractors disagree about spaces — pypdf keeps a no-break space, PDFium (Chrome's viewer) keeps it
only in a line drawn as one string, poppler (pdftotext, Evince) turns it into a plain space — but
all keep the joiner or the no-break space, so :func:`restored` gets the mark back either way.

- the **visible text**. A line in a script that needs shaping (Arabic, Persian, Hebrew, Indic…)
  is shaped by HarfBuzz (fpdf2's text shaping), so letters join and runs are laid out right to
  left; any other line is drawn as one string, unshaped, which every extractor reads as written.
  Lines are broken here, not by fpdf2's ``multi_cell``, which turns no-break spaces into spaces;
- a **hidden layer** (text render mode 3, painted nowhere) holding each line once more in
  *logical* order, unshaped, one text object per line, below the page's visible area. It exists
  because shaped right-to-left text is stored in visual order, one glyph at a time, and every
  extractor rebuilds the logical order its own way (pypdf scrambles the words of an Arabic line;
  poppler moves punctuation; PDFium reverses the words), which changes the word pairs the marks
  are keyed on. :func:`backchannel.documents.layer.hidden_text` reads it back exactly, whatever
  the script. It lies outside the page box because over the visible text poppler interleaved the
  two letter by letter; out there viewers, poppler and PDFium leave it alone (pypdf reads it).

An uploaded PDF cannot be rewritten, so :func:`stamp` merges onto each page an optional visible
line (member, party, time) and a hidden carrier sentence marked for the recipient. Both kinds of
copy hold a per-copy id in their metadata (``/BackchannelCopy``), a keyed hash of the recipient.
The layout never depends on the recipient: every copy has the same lines on the same pages.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from fpdf import FPDF
from fpdf.enums import TextMode
from nacl.encoding import HexEncoder
from nacl.hash import blake2b
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError

from backchannel.documents import font
from backchannel.engine import watermark
from backchannel.errors import DocumentMalformed

Direction = Literal["ltr", "rtl"]

#: A mark as a PDF copy writes it: the no-break space, then a word joiner that survives the
#: extractors that turn the no-break space into a plain one.
JOINER = "\u2060"
PDF_MARK = watermark.MARK + JOINER
_RESTORE = re.compile(r"[ \u00a0]\u2060")
#: The metadata key of the per-copy id.
COPY_KEY = "/BackchannelCopy"
_PERSON = b"bc-pdf-copy-v1"
_FAMILY = "body"
_SIZE = 11.0  # points
_LEADING = 1.5  # line height, in font sizes
_MARGIN = 20.0  # millimetres
_MARK_SIZE = 7.0
_GREY = (110, 110, 110)
_BREAKS = re.compile(r"(?<=[ \u00a0])")
_GAPS = " \u00a0"
#: What the hidden layer of a stamped page says, marked for the recipient: words that are not the
#: page's own, so a pasted excerpt holding both cannot disagree with itself. ~60 gaps: a page alone
#: names its copy with a chance of error far below one in a million.
CARRIER = (
    "This page belongs to a confidential copy issued to one member of the talks. Its words are the "
    "same in every copy, yet the issuer can tell which copy any part of it came from. Do not "
    "forward, quote or publish any part of it without the consent of every party, and report a "
    "copy found outside the talks to the mediator at once, with where and when it was found."
)


@dataclass(frozen=True, slots=True)
class VisibleMark:
    """The line printed on every page of a copy, when the talks want one shown."""

    member: str
    party: str
    time: str  # as it should print, e.g. "2026-12-03 07:30 UTC": the caller reads the clock

    def line(self) -> str:
        """The words of the mark."""
        return f"Copy for {self.member} ({self.party}), {self.time}. Do not forward."


def copy_id(key: bytes, recipient: str) -> str:
    """The id in ``recipient``'s copies' metadata: without the key it names no one."""
    digest: bytes = blake2b(
        recipient.encode("utf-8"), digest_size=16, key=key, person=_PERSON, encoder=HexEncoder
    )
    return digest.decode("ascii")


def restored(text: str) -> str:
    """Text extracted from a PDF copy with its marks as the watermark writes them: a space or
    no-break space before a word joiner is a mark; any other joiner is dropped."""
    return _RESTORE.sub(watermark.MARK, text).replace(JOINER, "")


def _pdf_marked(text: str, key: bytes, recipient: str) -> str:
    return watermark.mark(text, key, recipient).replace(watermark.MARK, PDF_MARK)


def _needs_shaping(line: str) -> bool:
    """Whether a line holds a script HarfBuzz must shape: anything past Latin, Greek, Cyrillic and
    Armenian (below U+0590), general punctuation and symbols (U+2000–U+22FF) aside."""
    return any(ord(c) >= 0x0590 and not 0x2000 <= ord(c) <= 0x22FF for c in line)


def direction_of(paragraph: str) -> Direction:
    """The paragraph's direction, from its first strongly directional character (UAX #9 P2)."""
    for character in paragraph:
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def _document(unit: Literal["mm", "pt"] = "mm") -> FPDF:
    pdf = FPDF(unit=unit, format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creator("Backchannel")
    pdf.add_font(_FAMILY, fname=str(font.path()))
    return pdf


@contextmanager
def _shaping(pdf: FPDF, on: bool) -> Iterator[None]:
    pdf.set_text_shaping(on)
    try:
        yield
    finally:
        pdf.set_text_shaping(False)


@contextmanager
def _hidden(pdf: FPDF) -> Iterator[None]:
    """Render mode 3, unshaped, inside q/Q: fpdf2 does not reset the mode after ``text``."""
    with pdf.local_context(text_mode=TextMode.INVISIBLE):
        yield


def _lines(pdf: FPDF, paragraph: str, width: float) -> list[str]:
    """``paragraph`` broken at spaces (marked or not) into lines no wider than ``width``; the
    space at a break is dropped, as extraction would turn it into a line end anyway."""
    lines: list[str] = []
    current = ""
    with _shaping(pdf, _needs_shaping(paragraph)):  # shaped glyphs have their own widths
        for piece in _BREAKS.split(paragraph):
            if current and pdf.get_string_width((current + piece).rstrip(_GAPS)) > width:
                lines.append(current.rstrip(_GAPS))
                current = piece
            else:
                current += piece
    lines.append(current.rstrip(_GAPS))
    return lines


def _visible(pdf: FPDF, line: str, width: float, y: float) -> None:
    """The visible mark, centred at ``y``: its spaces are marked too, or a copier who takes it
    along with the text would bring plain spaces that disagree with the recipient's marks."""
    with pdf.local_context(text_color=_GREY), _shaping(pdf, _needs_shaping(line)):
        pdf.set_font(_FAMILY, size=_MARK_SIZE)
        pdf.set_xy(0, y)
        pdf.cell(width, 1.2 * _MARK_SIZE / pdf.k, line, align="C")


def _with_metadata(data: bytes, key: bytes, recipient: str, title: str | None) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    metadata = {COPY_KEY: copy_id(key, recipient)}
    if title:
        metadata["/Title"] = title
    writer.add_metadata(metadata)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_text(
    text: str,
    key: bytes,
    recipient: str,
    *,
    title: str = "",
    direction: Direction | None = None,
    visible: VisibleMark | None = None,
) -> bytes:
    """``recipient``'s marked copy of ``text`` (UTF-8 text, paragraphs split at line ends) as PDF
    bytes. ``direction`` sets the margin every paragraph keeps to; ``None`` takes each one's own
    from its first strong character. The order of the letters within a line is HarfBuzz's and
    fpdf2's bidi algorithm's either way."""
    marked = _pdf_marked(text, key, recipient)
    pdf = _document()
    width = pdf.w - 2 * _MARGIN
    leading = _SIZE * _LEADING / pdf.k
    bottom = pdf.h - _MARGIN
    hidden: list[tuple[float, float, str]] = []

    def flush() -> None:
        with _hidden(pdf):
            for x, y, line in hidden:
                pdf.text(x, y, line)
        hidden.clear()

    def new_page() -> None:
        pdf.add_page()
        if visible is not None:
            line = _pdf_marked(visible.line(), key, recipient)
            _visible(pdf, line, pdf.w, pdf.h - _MARGIN / 2)
        pdf.set_font(_FAMILY, size=_SIZE)
        pdf.set_xy(_MARGIN, _MARGIN)

    new_page()
    for paragraph in marked.split("\n"):
        rtl = (direction or direction_of(paragraph)) == "rtl"
        for line in _lines(pdf, paragraph, width):
            if pdf.get_y() + leading > bottom:
                flush()
                new_page()
            y = pdf.get_y()
            pdf.set_x(_MARGIN)
            with _shaping(pdf, _needs_shaping(line)):
                pdf.cell(width, leading, line, align="R" if rtl else "L")
            pdf.set_xy(_MARGIN, y + leading)
            if line.strip(JOINER):
                x = _MARGIN + width - pdf.get_string_width(line) if rtl else _MARGIN
                hidden.append((x, pdf.h + leading * (1 + len(hidden)), line))
    flush()
    return _with_metadata(bytes(pdf.output()), key, recipient, title or None)


def opened(data: bytes) -> PdfReader:
    """``data`` opened as a PDF, or the project's error: pypdf raises many kinds."""
    if not data.lstrip()[:5] == b"%PDF-":
        raise DocumentMalformed("This file is not a PDF: it does not start with %PDF-.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentMalformed("This PDF is encrypted: it cannot be stamped or traced.")
        len(reader.pages)  # parses the page tree, where truncated files fail
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentMalformed("This PDF is damaged and cannot be read.") from exc
    return reader


def stamp(pdf: bytes, key: bytes, recipient: str, visible: VisibleMark | None = None) -> bytes:
    """``recipient``'s stamped copy of an uploaded PDF: on every page the hidden carrier sentence
    marked for it and, if given, the visible line; the copy's id in the metadata. Marks go inside
    each page's crop box (what viewers show), upright as the page is shown."""
    writer = PdfWriter(clone_from=opened(pdf))
    overlay = _document(unit="pt")
    boxes = []
    try:
        for number, page in enumerate(writer.pages, start=1):
            if page.rotation:  # so the marks' "up" is the reader's up
                page.transfer_rotation_to_content()
            box = page.cropbox
            width, height = float(box.width), float(box.height)
            boxes.append((float(box.left), float(box.bottom)))
            overlay.add_page(format=(width, height))
            if visible is not None:
                line = _pdf_marked(visible.line(), key, recipient)
                _visible(overlay, line, width, height - 2.4 * _MARK_SIZE)
            carrier = _pdf_marked(f"Page {number}. {CARRIER}", key, recipient)
            overlay.set_font(_FAMILY, size=1)
            size = min(_MARK_SIZE, 0.9 * width / overlay.get_string_width(carrier))
            overlay.set_font(_FAMILY, size=size)
            with _hidden(overlay):
                overlay.text(0.05 * width, height - 0.5 * _MARK_SIZE, carrier)
        layers = PdfReader(io.BytesIO(bytes(overlay.output())))
        for page, layer, (left, bottom) in zip(writer.pages, layers.pages, boxes, strict=True):
            page.merge_transformed_page(layer, Transformation().translate(left, bottom))
    except (PyPdfError, ValueError, KeyError, TypeError, ZeroDivisionError) as exc:
        raise DocumentMalformed("This PDF is damaged and cannot be stamped.") from exc
    out = io.BytesIO()
    writer.write(out)
    return _with_metadata(out.getvalue(), key, recipient, None)
