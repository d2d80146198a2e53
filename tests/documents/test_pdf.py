"""PDF copies of a text: real fonts, real PDF bytes; each copy names its recipient when traced.

Arabic and Persian are shaped (joined letters, the lam-alef ligature) and their hidden layer gives
the logical text back; the layout is the same for every recipient; a missing font is the
project's error.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from backchannel.documents import (
    VisibleMark,
    copy_id,
    direction_of,
    extracted_text,
    hidden_text,
    holder,
    render_text,
    restored,
    trace_excerpt,
    trace_pdf,
)
from backchannel.documents import font as fonts
from backchannel.documents.pdf import JOINER
from backchannel.engine import watermark
from backchannel.engine.watermark import MARK, SPACE, Verdict
from backchannel.errors import FontMissing

PDFTOTEXT = shutil.which("pdftotext")
KEY = bytes(range(32))
PEOPLE = ["mcgurk", "us-notetaker", "bagheri", "oman-envoy", "larijani"]
ENGLISH = (
    "Article 1 — Ceasefire\n\n"
    "The parties cease all hostilities from day one. Iran will use its influence to cut the "
    "attacks on shipping in the Red Sea by at least half if a ceasefire in Gaza is reached, and "
    "not before; the United States will confirm each step through the mediator within a week, "
    "and the mediator will report to both delegations in their own rooms."
)
ARABIC = (
    "المادة الأولى — وقف إطلاق النار\n\n"
    "يتفق الطرفان على وقف جميع الأعمال العدائية من اليوم الأول، ولا قبل ذلك. تستخدم إيران "
    "نفوذها لخفض الهجمات على الملاحة في البحر الأحمر بمقدار النصف على الأقل إذا تم التوصل إلى "
    "وقف لإطلاق النار في غزة، ويبلغ الوسيط كلا الوفدين في غرفتيهما."
)
PERSIAN = (
    "طرفین توافق می‌کنند که آتش‌بس را از روز نخست رعایت کنند و میانجی هر گام را گزارش دهد. "
    "ایران از نفوذ خود برای کاهش دست‌کم نیمی از حملات به کشتیرانی در دریای سرخ استفاده می‌کند، "
    "اگر آتش‌بس در غزه برقرار شود و نه پیش از آن؛ "
    "ایالات متحده هر گام را ظرف یک هفته تأیید خواهد کرد."
)

long_texts = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10),
    min_size=80,
    max_size=120,
    unique=True,
).map(" ".join)


def _words(text: str) -> list[str]:
    return text.replace(MARK, SPACE).split()


def _unicode_maps(data: bytes) -> list[dict[int, str]]:
    """Each embedded font's ToUnicode map: code → the characters that glyph stands for."""
    maps = []
    for font in PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].values():
        cmap = font.get_object()["/ToUnicode"].get_object().get_data()
        pairs = re.findall(rb"<([0-9A-F]{4})> <([0-9A-F]+)>", cmap)
        maps.append({int(c, 16): bytes.fromhex(u.decode()).decode("utf-16-be") for c, u in pairs})
    return maps


@settings(max_examples=20, deadline=None)
@given(long_texts, st.sampled_from(PEOPLE))
def test_a_copy_traces_to_its_recipient_and_to_no_one_else(text: str, person: str) -> None:
    """The recipient's own PDF copy names it; among candidates without it, no one is named."""
    data = render_text(text, KEY, person)
    found = trace_pdf(data, KEY, PEOPLE)
    assert found.verdict is Verdict.IDENTIFIED
    assert found.recipient == person
    assert found.chance < watermark.IDENTIFY_BELOW
    others = [p for p in PEOPLE if p != person]
    assert trace_pdf(data, KEY, others).verdict is Verdict.NO_MATCH


def test_the_hidden_layer_is_the_marked_text_line_by_line() -> None:
    """Read back, the hidden layer holds the recipient's marked text, broken into lines only."""
    data = render_text(ENGLISH, KEY, "bagheri")
    marked = watermark.mark(ENGLISH, KEY, "bagheri")
    hidden = hidden_text(data)
    assert MARK in hidden
    # Each line is a run of the marked text; a line ends where a space (marked or not) was.
    pattern = "[ \u00a0\n]+".join(re.escape(line) for line in hidden.split("\n"))
    assert re.fullmatch(pattern, marked)
    assert _words(hidden) == _words(ENGLISH)


def test_a_left_to_right_page_copied_whole_still_traces(tmp_path: Path) -> None:
    """What a general extractor reads (visible text, visible mark and hidden layer together)
    carries the marks: pypdf keeps the no-break spaces, poppler's pdftotext turns them into
    plain spaces but keeps the word joiners after them."""
    mark = VisibleMark("Brett McGurk", "United States", "2026-12-03 07:30 UTC")
    data = render_text(ENGLISH, KEY, "mcgurk", visible=mark)
    copied = extracted_text(data)
    assert "McGurk" in copied and "2026-12-03" in copied
    found = trace_excerpt(copied, KEY, PEOPLE)
    assert (found.verdict, found.recipient) == (Verdict.IDENTIFIED, "mcgurk")
    if PDFTOTEXT is None:
        pytest.skip("needs Debian's poppler-utils (make installs it)")
    (tmp_path / "copy.pdf").write_bytes(data)
    command = [PDFTOTEXT, "-enc", "UTF-8", str(tmp_path / "copy.pdf"), "-"]
    poppler = subprocess.run(command, check=True, capture_output=True, timeout=60).stdout
    text = poppler.decode("utf-8")
    assert MARK not in text and JOINER in text  # poppler's spaces are all plain
    found = trace_excerpt(text, KEY, PEOPLE)
    assert (found.verdict, found.recipient) == (Verdict.IDENTIFIED, "mcgurk")


def test_restored_reads_a_mark_from_either_half() -> None:
    """A mark is a no-break space then a word joiner; either alone (as extractors leave it) reads
    as a mark, a joiner anywhere else is dropped, and a plain space stays plain."""
    assert restored(f"a{MARK}{JOINER}b") == f"a{MARK}b"
    assert restored(f"a {JOINER}b") == f"a{MARK}b"
    assert restored(f"a{MARK}b c") == f"a{MARK}b c"
    assert restored(f"a\n{JOINER}b{JOINER}c") == "a\nbc"


@pytest.mark.parametrize("text", [ARABIC, PERSIAN], ids=["arabic", "persian"])
def test_arabic_script_is_shaped_and_its_logical_text_comes_back(text: str) -> None:
    """HarfBuzz shaping is on: a letter is drawn in several contextual forms (several glyphs map
    back to it) and lam-alef is one glyph for two letters, neither of which happens unshaped;
    the hidden layer gives the logical text back, and the copy traces."""
    data = render_text(text, KEY, "larijani")
    (table,) = _unicode_maps(data)
    forms: dict[str, int] = {}
    for characters in table.values():
        forms[characters] = forms.get(characters, 0) + 1
    assert max(forms.values()) >= 2  # one letter, several shaped glyphs
    if "لا" in text.replace("\u200c", ""):
        assert "لا" in forms  # the lam-alef ligature
    assert _words(hidden_text(data)) == _words(text)
    found = trace_pdf(data, KEY, PEOPLE)
    assert (found.verdict, found.recipient) == (Verdict.IDENTIFIED, "larijani")


def test_direction_comes_from_the_first_strong_character() -> None:
    """A paragraph that opens in Arabic or Persian runs right to left; digits and dashes don't
    decide."""
    assert direction_of(ARABIC) == "rtl"
    assert direction_of("— ١٢ " + PERSIAN) == "rtl"
    assert direction_of("12 — " + ENGLISH) == "ltr"
    assert direction_of("") == "ltr"


def test_every_recipient_gets_the_same_layout() -> None:
    """Copies differ only in their marks: same pages, same lines, same words on each line."""
    long = "\n\n".join([ENGLISH] * 12)
    copies = [render_text(long, KEY, p) for p in PEOPLE]
    shapes = {tuple(len(_words(line)) for line in hidden_text(c).split("\n")) for c in copies}
    assert len(shapes) == 1
    (pages,) = {len(PdfReader(io.BytesIO(c)).pages) for c in copies}
    assert pages >= 2


def test_the_copy_id_in_the_metadata_names_the_holder() -> None:
    """The metadata holds a keyed id of the recipient, and the title when one is given."""
    data = render_text(ENGLISH, KEY, "oman-envoy", title="Muscat — negotiating text")
    metadata = PdfReader(io.BytesIO(data)).metadata
    assert metadata is not None and metadata.title == "Muscat — negotiating text"
    assert metadata["/BackchannelCopy"] == copy_id(KEY, "oman-envoy")
    assert "oman" not in metadata["/BackchannelCopy"]
    assert holder(data, KEY, PEOPLE) == "oman-envoy"
    assert holder(data, bytes(32), PEOPLE) is None


def test_a_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No font, no PDF: the error has its stable code and says what to install."""
    monkeypatch.setenv(fonts.VARIABLE, "/nonexistent/font.ttf")
    with pytest.raises(FontMissing) as caught:
        render_text(ENGLISH, KEY, "mcgurk")
    assert caught.value.code == "document.font_missing"
    assert "fonts-dejavu-core" in caught.value.message
