"""The page a member sees: an Arabic and Persian copy rendered to PNG by Debian's pdftoppm.

``make screenshots`` writes it to ``docs/screenshots/stamped-arabic.png``
(``BACKCHANNEL_SCREENSHOTS``), else to a temporary folder; the check here is that right-to-left
paragraphs end at the right margin and the visible line is printed at the foot of the page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from backchannel.documents import VisibleMark, render_text
from tests.documents.test_pdf import ARABIC, ENGLISH, KEY, PERSIAN

PDFTOPPM = shutil.which("pdftoppm")
SHOTS = Path(
    os.environ.get("BACKCHANNEL_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "backchannel-screenshots"
)
COPY = (
    "محادثات مسقط — النص التفاوضي. نسخة لعلي لاريجاني؛ لا تُرسل.\n\n"
    f"{ARABIC}\n\nالمادة الثانية — الضمانات\n\n{PERSIAN}\n\n{ENGLISH}"
)


@pytest.mark.skipif(PDFTOPPM is None, reason="needs Debian's poppler-utils (make installs it)")
def test_an_arabic_copy_renders_right_to_left(tmp_path: Path) -> None:
    """Rendered at 80 dpi, the Arabic heading's ink ends at the right margin and starts far from
    the left one, the English paragraph starts at the left margin, and the foot carries ink."""
    mark = VisibleMark("Ali Larijani", "Iran", "2026-12-03 07:30 UTC")
    pdf = tmp_path / "copy.pdf"
    pdf.write_bytes(render_text(COPY, KEY, "larijani", title="Muscat", visible=mark))
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / "stamped-arabic"
    assert PDFTOPPM is not None
    command = [PDFTOPPM, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*command, str(pdf), str(target)], check=True, timeout=60)
    page = Image.open(f"{target}.png").convert("L")
    width, height = page.size
    margin = round(20 / 25.4 * 80)  # 20 mm at 80 dpi

    def ink(top: int, bottom: int) -> tuple[int, int] | None:
        box = page.crop((0, top, width, bottom)).point(lambda v: 255 if v < 128 else 0).getbbox()
        return None if box is None else (box[0], box[2])

    heading = ink(margin, margin + 25)  # the first line: a short Arabic sentence
    assert heading is not None
    assert abs(heading[1] - (width - margin)) <= 8 and heading[0] > 2 * margin
    english = ink(height // 3, height // 2)
    assert english is not None and abs(english[0] - margin) <= 8
    assert ink(height - margin, height) is not None  # the visible line
