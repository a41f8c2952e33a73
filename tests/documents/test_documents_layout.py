from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.documents import fonts as fonts_module
from app.documents._layout import chinese_date, wrap_text
from app.documents.fonts import CjkFontNotFoundError, CjkFonts, FontFace, find_cjk_fonts


def width(text: str) -> float:
    return float(len(text))  # every character one unit wide


def test_wrap_breaks_between_any_characters() -> None:
    assert wrap_text("一二三四五六七", 3, width) == ["一二三", "四五六", "七"]


def test_wrap_keeps_closing_punctuation_off_line_start() -> None:
    lines = wrap_text("一二三，四五", 3, width)
    assert lines == ["一二", "三，四", "五"]
    assert not any(line.startswith("，") for line in lines)


def test_wrap_keeps_opening_punctuation_off_line_end() -> None:
    assert wrap_text("一二“三四”", 3, width) == ["一二", "“三", "四”"]


def test_wrap_honours_newlines_and_drops_break_spaces() -> None:
    assert wrap_text("ab cd\nef", 3, width) == ["ab", "cd", "ef"]


def test_chinese_date() -> None:
    assert chinese_date(date(2023, 9, 7)) == "2023年9月7日"


def test_configured_font_path(tmp_path: Path) -> None:
    font = tmp_path / "font.ttc"
    font.write_bytes(b"")
    assert find_cjk_fonts(font, index=2) == CjkFonts.single(FontFace(font, 2))
    with pytest.raises(CjkFontNotFoundError, match="does not exist"):
        find_cjk_fonts(tmp_path / "missing.ttf")


def test_missing_fonts_name_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    absent = CjkFonts.single(FontFace(tmp_path / "absent.ttc"))
    monkeypatch.setattr(fonts_module, "DEBIAN_CANDIDATES", (absent,))
    with pytest.raises(CjkFontNotFoundError, match="apt-get install fonts-noto-cjk"):
        find_cjk_fonts()
