from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from app.documents.tables import (
    SUBMISSION_HEADERS,
    Cell,
    ExportRow,
    neutralise,
    rows_csv,
    rows_xlsx,
    submissions_csv,
    submissions_xlsx,
)
from app.models import CHECK_NAMES
from app.review.export import SUBMISSION_LABELS

ATTACKS = ["=1+1", "+SUM(A1:A9)", "-2", "@cmd", "\t=1", "\r=1"]


def row(id: int, check: int | None, **overrides: object) -> ExportRow:
    values: dict[str, object] = {
        "id": id,
        "unit": "故县镇第一初级中学",
        "channel": "web",
        "role": "家长",
        "anonymous": True,
        "text": f"第{id}条意见：建议减少作业量",
        "check": check,
        "check_score": 0.8125,
        "status": "new",
        "created_at": datetime(2023, 10, 1, 16, 30, tzinfo=UTC) + timedelta(hours=id),
    }
    values.update(overrides)
    return ExportRow(**values)  # type: ignore[arg-type]


ROWS = [
    row(1, 3),
    row(2, 3, channel="email", status="replied"),
    row(3, 5, channel="letter", anonymous=False, name="王老师", contact="13800000000"),
    row(4, 0, channel="meeting", role="离退休老同志", status="invalid"),
    row(5, None, status="mystery"),
]


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_sheets_and_rows() -> None:
    book = load(submissions_xlsx(ROWS, labels=SUBMISSION_LABELS, title="意见汇总"))
    assert book.sheetnames == ["汇总", "全部意见", *(f"{c} {n}" for c, n in CHECK_NAMES.items())]
    everything = book["全部意见"]
    assert [cell.value for cell in everything[1]] == list(SUBMISSION_HEADERS)
    assert everything.max_row == 1 + len(ROWS)
    assert everything.freeze_panes == "A2"
    per_check = {3: 2, 5: 1, 0: 1, 1: 0, 2: 0, 4: 0}
    for check, count in per_check.items():
        sheet = book[f"{check} {CHECK_NAMES[check]}"]
        assert sheet.max_row == 1 + count, check
        assert sheet["A1"].value == "编号"


def test_xlsx_labels_dates_and_anonymity() -> None:
    book = load(submissions_xlsx(ROWS, labels=SUBMISSION_LABELS, title="意见汇总"))
    rows = list(book["全部意见"].iter_rows(min_row=2, values_only=True))
    first = dict(zip(SUBMISSION_HEADERS, rows[0], strict=True))
    assert first["渠道"] == "网页"
    assert first["状态"] == "新收"
    assert first["五查类别"] == "工作作风"
    assert first["匿名"] == "是"
    # 16:30 UTC + 1 h is 01:30 the next day in Beijing, stored as a real datetime.
    assert first["提交时间"] == datetime(2023, 10, 2, 1, 30)
    assert book["全部意见"]["J2"].number_format == "yyyy-mm-dd hh:mm"
    named = dict(zip(SUBMISSION_HEADERS, rows[2], strict=True))
    assert (named["渠道"], named["姓名"], named["联系方式"]) == ("信件", "王老师", "13800000000")
    assert [r[2] for r in rows[1:4]] == ["邮件", "信件", "座谈会"]
    assert rows[4][6] == "待归类"
    assert rows[4][8] == "mystery"  # unknown codes are shown as they are


def test_anonymous_rows_never_carry_identity() -> None:
    leaky = row(9, 1, anonymous=True, name="张三", contact="zs@example.cn")
    text = submissions_csv([leaky], labels=SUBMISSION_LABELS).decode("utf-8-sig")
    assert "张三" not in text and "zs@example.cn" not in text
    book = load(submissions_xlsx([leaky], labels=SUBMISSION_LABELS, title="t"))
    assert book["全部意见"]["K2"].value is None


def test_xlsx_summary_counts() -> None:
    exported = datetime(2023, 11, 1, 2, 0, tzinfo=UTC)
    book = load(
        submissions_xlsx(
            ROWS,
            labels=SUBMISSION_LABELS,
            title="意见汇总",
            summary={"导出时间": exported, "单位": "故县镇"},
        )
    )
    values = [r for r in book["汇总"].iter_rows(values_only=True) if r[0] is not None]
    pairs = {r[0]: r[1] for r in values if len(r) > 1}
    assert values[0][0] == "意见汇总"
    assert pairs["导出时间"] == datetime(2023, 11, 1, 10, 0)
    assert pairs["单位"] == "故县镇"
    assert pairs["意见总数"] == 5
    assert [pairs[name] for name in CHECK_NAMES.values()] == [1, 0, 0, 2, 0, 1]
    assert pairs["待归类"] == 1
    assert (pairs["新收"], pairs["已答复"], pairs["无效"], pairs["已办结"]) == (2, 1, 1, 0)
    assert pairs["mystery"] == 1
    assert (pairs["网页"], pairs["邮件"], pairs["信件"], pairs["座谈会"]) == (2, 1, 1, 1)


def test_csv_has_bom_and_parses_back() -> None:
    data = submissions_csv(ROWS, labels=SUBMISSION_LABELS)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert parsed[0] == list(SUBMISSION_HEADERS)
    assert len(parsed) == 1 + len(ROWS)
    assert parsed[1][:7] == [
        "1",
        "故县镇第一初级中学",
        "网页",
        "家长",
        "是",
        "第1条意见：建议减少作业量",
        "工作作风",
    ]
    assert parsed[1][9] == "2023-10-02 01:30:00"


@pytest.mark.parametrize("attack", ATTACKS)
def test_formula_injection_neutralised(attack: str) -> None:
    rows = [row(1, 1, text=attack, role=attack, anonymous=False, name=attack)]
    text = submissions_csv(rows, labels=SUBMISSION_LABELS).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1][5] == "'" + attack
    assert parsed[1][3] == "'" + attack
    assert parsed[1][10] == "'" + attack
    book = load(submissions_xlsx(rows, labels=SUBMISSION_LABELS, title=attack))
    # XML parsers differ on a bare carriage return (lxml keeps it, the standard
    # library reads a line feed); the apostrophe is what matters.
    expected = ("'" + attack).replace("\r", "\n")
    assert book["全部意见"]["F2"].value.replace("\r", "\n") == expected
    assert book["全部意见"]["F2"].data_type == "s"  # a string, not a formula
    assert book["汇总"]["A1"].value.replace("\r", "\n") == expected


def test_neutralise_leaves_ordinary_text() -> None:
    assert neutralise("建议 = 好") == "建议 = 好"
    assert neutralise("") == ""
    assert neutralise("2-1") == "2-1"


def test_generic_tables() -> None:
    headers = ["学校", "应到", "实到", "日期", "达标"]
    data: list[list[Cell]] = [
        ["一中", 40, 38, date(2023, 10, 9), True],
        ["=HYPERLINK(1)", 1, None, None, False],
    ]
    sheet = load(rows_xlsx(headers, data, sheet_title="名册核对"))["名册核对"]
    assert [c.value for c in sheet[1]] == headers
    assert sheet.max_row == 3
    assert sheet["D2"].value == datetime(2023, 10, 9)
    assert sheet["A3"].value == "'=HYPERLINK(1)"
    parsed = list(csv.reader(io.StringIO(rows_csv(headers, data).decode("utf-8-sig"), newline="")))
    assert parsed == [
        headers,
        ["一中", "40", "38", "2023-10-09", "是"],
        ["'=HYPERLINK(1)", "1", "", "", "否"],
    ]


def test_column_widths_fit_chinese() -> None:
    sheet = load(submissions_xlsx(ROWS, labels=SUBMISSION_LABELS, title="t"))["全部意见"]
    # Nine CJK characters need about 18 character widths, capped for long opinions.
    assert sheet.column_dimensions["B"].width >= 18
    assert sheet.column_dimensions["F"].width <= 62


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        row(1, 1, created_at=datetime(2023, 10, 1))
