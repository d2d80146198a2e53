"""Reading a leaked PDF back: its hidden text layer, its plain extracted text, and its copy.

The hidden layer (render mode 3, see :mod:`backchannel.documents.pdf`) is read by walking each
page's content stream and decoding the strings shown in mode 3 through their font's ToUnicode
map, one line per text object, in the order written. Nothing here reorders text, so a right-to-left
line comes back in the logical order it was written in, no-break spaces included, which no
general extractor promises. A PDF without that layer (it was removed, or the file was never a
Backchannel copy) is traced from what pypdf extracts, as a pasted excerpt would be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pypdf import PageObject
from pypdf.errors import PyPdfError
from pypdf.generic import ContentStream, TextStringObject

from backchannel.documents.pdf import CARRIER, COPY_KEY, copy_id, opened, restored
from backchannel.engine import watermark
from backchannel.errors import DocumentMalformed

_INVISIBLE = 3
_SECTION = re.compile(rb"begin(bfchar|bfrange)(.*?)end\1", re.DOTALL)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")
_PAGE = re.compile(r"^Page \d+\.\s*")


def _unicode_map(font: Any) -> dict[int, str] | None:
    """A font's ToUnicode map as code → text: the bfchar and simple bfrange forms fpdf2 writes;
    None for a one-byte font without one (read as Windows-1252, near enough for a trace), an
    empty map for a two-byte font without one (unreadable)."""
    if "/ToUnicode" not in font:
        return {} if font.get("/Subtype") == "/Type0" else None
    table: dict[int, str] = {}
    for kind, body in _SECTION.findall(font["/ToUnicode"].get_object().get_data()):
        values = [bytes.fromhex(v.decode("ascii")) for v in _HEX.findall(body)]
        step = 2 if kind == b"bfchar" else 3
        for entry in zip(*(values[i::step] for i in range(step)), strict=False):
            if kind == b"bfchar":
                table[int.from_bytes(entry[0], "big")] = entry[1].decode("utf-16-be", "replace")
            else:
                low, high, first = (int.from_bytes(v, "big") for v in entry)
                for offset in range(high - low + 1):
                    table[low + offset] = chr(first + offset)
    return table


def _decode(shown: Any, table: dict[int, str] | None, width: int) -> str:
    """Shown bytes as text: codes of ``width`` bytes (2 in a Type0 font, as fpdf2 writes)."""
    raw = shown.original_bytes if isinstance(shown, TextStringObject) else bytes(shown)
    if table is None:
        return raw.decode("cp1252", "replace")
    codes = (int.from_bytes(raw[i : i + width], "big") for i in range(0, len(raw), width))
    return "".join(table.get(code, "") for code in codes)


def _page_hidden(page: PageObject) -> list[str]:
    fonts = page.get("/Resources", {}).get("/Font", {})
    tables: dict[str, dict[int, str] | None] = {}
    lines: list[str] = []
    mode, name = 0, ""
    saved: list[tuple[int, str]] = []
    current: list[str] = []
    contents = page.get_contents()
    if contents is None:
        return lines
    for operands, operator in ContentStream(contents, page.pdf).operations:
        if operator == b"q":
            saved.append((mode, name))
        elif operator == b"Q" and saved:
            mode, name = saved.pop()
        elif operator == b"Tr":
            mode = int(operands[0])
        elif operator == b"Tf":
            name = str(operands[0])
        elif operator == b"ET" and current:
            lines.append("".join(current))
            current = []
        elif operator in (b"Tj", b"TJ", b"'", b'"') and mode == _INVISIBLE:
            font = fonts[name].get_object() if name in fonts else {}
            if name not in tables:
                tables[name] = _unicode_map(font)
            width = 2 if font.get("/Subtype") == "/Type0" else 1
            shown = operands[-1]
            parts = shown if operator == b"TJ" else [shown]
            current += [
                _decode(p, tables[name], width) for p in parts if not isinstance(p, int | float)
            ]
    return lines


def hidden_text(data: bytes) -> str:
    """The hidden text layer of PDF ``data``, one line per line written, its marks
    :func:`restored`; empty if it has none."""
    reader = opened(data)
    try:
        return restored("\n".join(line for page in reader.pages for line in _page_hidden(page)))
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DocumentMalformed("This PDF is damaged and its text cannot be read.") from exc


def extracted_text(data: bytes) -> str:
    """What a general extractor (pypdf) reads from PDF ``data``: both layers, as a copier gets."""
    reader = opened(data)
    try:
        return "\n".join(page.extract_text() for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DocumentMalformed("This PDF is damaged and its text cannot be read.") from exc


def trace_pdf(data: bytes, key: bytes, recipients: Iterable[str]) -> watermark.Trace:
    """Which recipient's copy the leaked PDF ``data`` is, from its text: the hidden layer when it
    has one, else everything pypdf extracts; the same verdict and chance as a text leak."""
    # A stamped OCR'd scan has a mode-3 layer of its own, unmarked: trace_excerpt keeps to the
    # carrier's lines when there are any.
    hidden = hidden_text(data)
    return trace_excerpt(hidden if hidden.strip() else extracted_text(data), key, recipients)


def _carried(line: str) -> bool:
    plain = _PAGE.sub("", " ".join(line.replace(watermark.MARK, " ").split()))
    return len(plain.split()) >= 3 and plain in CARRIER


def trace_excerpt(leaked: str, key: bytes, recipients: Iterable[str]) -> watermark.Trace:
    """Which recipient's copy a pasted excerpt of a PDF copy comes from. When it holds lines of a
    stamped page's carrier, only those count: the uploaded page's own words were never marked,
    and their plain spaces would otherwise disagree with every recipient's marks."""
    carried = [line for line in restored(leaked).splitlines() if _carried(line)]
    return watermark.trace("\n".join(carried) if carried else restored(leaked), key, recipients)


def holder(data: bytes, key: bytes, recipients: Iterable[str]) -> str | None:
    """The recipient whose copy id the PDF's metadata holds, if any (it is easily stripped)."""
    metadata = opened(data).metadata
    found = None if metadata is None else metadata.get(COPY_KEY)
    return next((r for r in recipients if found == copy_id(key, r)), None)
