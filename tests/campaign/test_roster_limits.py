"""A roster file is read only as far as its limits: rows while streaming, unpacked size first."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from openpyxl import Workbook

from app.campaign import roster
from app.core.errors import Invalid


def roster_xlsx(people: int) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "职务", "邮箱"])
    for n in range(people):
        sheet.append([f"老师{n}", "教师", None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_part(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The same workbook with one of its zipped parts changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as target:
        for item in source.namelist():
            body = source.read(item)
            target.writestr(item, change(body) if item == name else body)
    return out.getvalue()


def test_reading_stops_at_the_row_limit() -> None:
    # Valid rows well past the limit, then XML that cannot be parsed: a reader that goes
    # through the whole sheet before counting fails on it; one that stops at the limit
    # never gets there.
    data = with_part(
        roster_xlsx(roster.MAX_ROWS + 3000),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", b'<row r="999999"><c r="A1"><v>1</v></c>'),
    )
    with pytest.raises(Invalid, match=f"一次最多导入 {roster.MAX_ROWS} 人"):
        roster.parse_roster(filename="名单.xlsx", data=data)


def test_exactly_the_limit_is_read_in_full() -> None:
    preview = roster.parse_roster(filename="名单.xlsx", data=roster_xlsx(roster.MAX_ROWS))
    assert len(preview.rows) == roster.MAX_ROWS and preview.errors == []


def test_a_workbook_that_unpacks_huge_is_refused_before_parsing() -> None:
    # 40 MB of styles (a few hundred KB zipped), which openpyxl would parse whole on opening.
    data = with_part(
        roster_xlsx(3), "xl/styles.xml", lambda xml: xml + b"<!-- padding -->" * (40 << 16)
    )
    assert len(data) < 100_000
    with pytest.raises(Invalid, match="解压后过大"):
        roster.parse_roster(filename="名单.xlsx", data=data)
