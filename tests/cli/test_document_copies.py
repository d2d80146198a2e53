"""Per-recipient stamped copies of a PDF document, and tracing a leak back to its copy.

Iran sends a PDF into its caucus; the mediator and Iran's own member each fetch their copy; a
leaked file, and text pasted out of it, name the member whose copy it was. Real host, real
files, real PDFs (fpdf2), the same CLI a person runs.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from backchannel import documents
from tests.cli.test_documents import World, world  # noqa: F401 (the module's fixture)


def _plain_pdf() -> bytes:
    """An ordinary one-page PDF, as a delegation would upload it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Non-paper: principles for a reduction of attacks in the region.")
    return bytes(pdf.output())


def test_each_member_gets_its_own_copy_and_a_leak_names_it(world: World, tmp_path: Path) -> None:  # noqa: F811
    oman, iran = world.people["oman"], world.people["iran"]
    source = world.file("non-paper.pdf", _plain_pdf())
    iran("doc", "send", "muscat", "iran-caucus", str(source), "--label", "carry-gist", "--id", "np")
    mine = oman("doc", "get", "muscat", "np", "--out", str(tmp_path / "oman.pdf"))
    assert mine["stamped_for"] == "envoy" and mine["verified"]
    iran("doc", "get", "muscat", "np", "--out", str(tmp_path / "iran.pdf"), "--no-visible")
    oman_copy, iran_copy = (
        (tmp_path / "oman.pdf").read_bytes(),
        (tmp_path / "iran.pdf").read_bytes(),
    )
    assert oman_copy != iran_copy and oman_copy.startswith(b"%PDF-")
    assert "envoy" in documents.extracted_text(oman_copy)  # the visible line names the holder
    # The leaked file, traced by the author's device: the mediator's copy, with its chance.
    traced = iran("doc", "trace", "muscat", "np", str(tmp_path / "oman.pdf"))
    assert traced["verdict"] == "identified" and traced["recipient"] == "envoy"
    assert traced["chance"] < 1e-6 and traced["metadata_holder"] == "envoy"
    # Text pasted out of Iran's own copy (the hidden layer, as a PDF reader extracts it).
    excerpt = tmp_path / "excerpt.txt"
    excerpt.write_text(documents.hidden_text(iran_copy), encoding="utf-8")
    traced = oman("doc", "trace", "muscat", "np", str(excerpt))
    assert traced["recipient"] == "bagheri"
    # A file that is no copy of it: not identified, exit 1.
    other = world.file("other.pdf", _plain_pdf())
    refused = oman("doc", "trace", "muscat", "np", str(other), code=1)
    assert refused["verdict"] != "identified"
