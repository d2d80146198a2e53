"""Stamped uploaded PDFs, and reading any copy back: from the file, from a pasted excerpt, or from
a file that is not a PDF at all.

The uploaded PDF is made with fpdf2's core fonts, as another program would make it: its own words
carry no mark, so only the stamp's carrier names the copy.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import TextMode
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject

from backchannel.documents import (
    VisibleMark,
    extracted_text,
    hidden_text,
    holder,
    restored,
    stamp,
    trace_excerpt,
    trace_pdf,
)
from backchannel.engine.watermark import MARK, SPACE, Verdict
from backchannel.errors import DocumentMalformed

PDFTOTEXT = shutil.which("pdftotext")
KEY = bytes(range(32))
PEOPLE = ["mcgurk", "us-notetaker", "bagheri", "oman-envoy", "larijani"]
MARK_LINE = VisibleMark("Ali Bagheri", "Iran", "2026-12-03 07:30 UTC")


def _uploaded(pages: int = 2) -> bytes:
    """A PDF from elsewhere: a memo of a few pages in a core font, one landscape."""
    pdf = FPDF()
    for number in range(pages):
        pdf.add_page(orientation="L" if number == 1 else "P")
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(
            0,
            8,
            f"Memo page {number + 1}. The delegation notes the proposal on "
            "shipping and asks the mediator for the sequencing plan in writing.",
        )
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def stamped() -> bytes:
    """Bagheri's stamped copy of the memo, with the visible line."""
    return stamp(_uploaded(), KEY, "bagheri", MARK_LINE)


def test_a_stamped_copy_keeps_the_pages_and_adds_the_marks(stamped: bytes) -> None:
    """Same pages and sizes, the memo's words intact, the visible line and a hidden carrier on
    every page, and the copy id in the metadata."""
    original, copy = PdfReader(io.BytesIO(_uploaded())), PdfReader(io.BytesIO(stamped))
    assert [p.mediabox for p in copy.pages] == [p.mediabox for p in original.pages]
    text = restored(extracted_text(stamped)).replace(MARK, SPACE)
    assert "sequencing plan in writing" in text
    assert text.count("Copy for Ali Bagheri (Iran), 2026-12-03 07:30 UTC") == 2
    hidden = hidden_text(stamped).split("\n")
    assert [line.split()[:2] for line in hidden] == [["Page", "1."], ["Page", "2."]]
    assert holder(stamped, KEY, PEOPLE) == "bagheri"


def test_a_stamped_file_traces_to_its_recipient(stamped: bytes) -> None:
    """The file names Bagheri, with a chance of a false match far below one in a million."""
    found = trace_pdf(stamped, KEY, PEOPLE)
    assert (found.verdict, found.recipient) == (Verdict.IDENTIFIED, "bagheri")
    assert found.chance < 1e-9


def test_a_pasted_page_or_a_piece_of_the_carrier_traces(stamped: bytes) -> None:
    """What a copier pastes (the memo's own words around the carrier included) names the copy;
    so does half of one page's carrier line, cut mid-word at both ends."""
    whole = trace_excerpt(extracted_text(stamped), KEY, PEOPLE)
    assert (whole.verdict, whole.recipient) == (Verdict.IDENTIFIED, "bagheri")
    line = hidden_text(stamped).split("\n")[0]
    piece = line[len(line) // 4 + 3 : 3 * len(line) // 4 + 5]
    found = trace_excerpt(piece, KEY, PEOPLE)
    assert (found.verdict, found.recipient) == (Verdict.IDENTIFIED, "bagheri")


def test_without_the_visible_line_nothing_shows_but_the_trace_holds() -> None:
    """The talks may hide the visible mark; the hidden carrier still names the copy."""
    copy = stamp(_uploaded(1), KEY, "mcgurk", None)
    assert "Copy for" not in extracted_text(copy)
    assert trace_pdf(copy, KEY, PEOPLE).recipient == "mcgurk"


def test_the_memo_alone_carries_no_marks() -> None:
    """An unstamped PDF has nothing to trace: no marks, no one named."""
    found = trace_pdf(_uploaded(), KEY, PEOPLE)
    assert found.verdict is Verdict.NO_MARKS and found.recipient is None


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(PEOPLE), st.sampled_from(PEOPLE))
def test_each_stamped_copy_names_its_own_recipient(person: str, other: str) -> None:
    """A copy stamped for one member names it, and is no other member's copy."""
    copy = stamp(_uploaded(1), KEY, person)
    assert trace_pdf(copy, KEY, PEOPLE).recipient == person
    if other != person:
        assert trace_pdf(copy, KEY, [other]).verdict is Verdict.NO_MATCH


@pytest.mark.parametrize(
    "data",
    [b"", b"plain text, not a PDF", b"%PDF-1.7\n garbage", _uploaded()[:400]],
    ids=["empty", "text", "garbage", "truncated"],
)
def test_a_file_that_is_not_a_readable_pdf_is_the_projects_error(data: bytes) -> None:
    """Stamping or tracing a file that is not a readable PDF raises DocumentMalformed: a stable
    code and a sentence, never pypdf's own exception."""
    for call in (lambda: stamp(data, KEY, "mcgurk"), lambda: trace_pdf(data, KEY, PEOPLE)):
        with pytest.raises(DocumentMalformed) as caught:
            call()
        assert caught.value.code == "document.malformed"
        assert caught.value.message.endswith(".")


@pytest.mark.skipif(PDFTOTEXT is None, reason="needs Debian's poppler-utils (make installs it)")
def test_a_stamped_page_copied_by_poppler_traces(stamped: bytes, tmp_path: Path) -> None:
    """pdftotext turns every no-break space into a plain one; the word joiners after the marks
    stay, and the copy is named from them."""
    (tmp_path / "copy.pdf").write_bytes(stamped)
    assert PDFTOTEXT is not None
    command = [PDFTOTEXT, "-enc", "UTF-8", str(tmp_path / "copy.pdf"), "-"]
    text = subprocess.run(command, check=True, capture_output=True, timeout=60).stdout.decode()
    assert MARK not in text
    found = trace_excerpt(text, KEY, PEOPLE)
    assert (found.verdict, found.recipient) == (Verdict.IDENTIFIED, "bagheri")


def test_a_rotated_and_cropped_page_gets_its_marks_where_the_reader_sees_them() -> None:
    """A page shown turned a quarter and cropped: the visible line and the carrier land inside
    the crop box, upright for the reader (the page's rotation moves into its content), and the
    copy traces from the file and from what pypdf extracts."""
    source = PdfWriter(clone_from=io.BytesIO(_uploaded(1)))
    page = source.pages[0]
    page.rotate(90)
    page.cropbox = RectangleObject((20, 30, 500, 700))
    buffer = io.BytesIO()
    source.write(buffer)
    copy = stamp(buffer.getvalue(), KEY, "oman-envoy", MARK_LINE)
    shown = PdfReader(io.BytesIO(copy)).pages[0]
    assert shown.rotation == 0
    assert (float(shown.cropbox.width), float(shown.cropbox.height)) == (670.0, 480.0)
    assert trace_pdf(copy, KEY, PEOPLE).recipient == "oman-envoy"
    assert trace_excerpt(extracted_text(copy), KEY, PEOPLE).recipient == "oman-envoy"


def test_a_stamped_ocr_scan_traces_by_its_carrier() -> None:
    """An OCR'd scan brings an invisible (mode 3) text layer of its own, never marked; the trace
    keeps to the carrier's lines and still names the copy."""
    scan = FPDF()
    scan.add_page()
    scan.set_font("helvetica", size=12)
    scan.text_mode = TextMode.INVISIBLE
    scan.multi_cell(
        0,
        8,
        "Scanned memo. The delegation notes the proposal on shipping and asks "
        "the mediator for the sequencing plan in writing, within the week.",
    )
    copy = stamp(bytes(scan.output()), KEY, "larijani")
    assert "Scanned memo." in hidden_text(copy)
    found = trace_pdf(copy, KEY, PEOPLE)
    assert (found.verdict, found.recipient) == (Verdict.IDENTIFIED, "larijani")
