"""Spreadsheet exports (xlsx and CSV) with Chinese headers and labels.

Text cells that a spreadsheet would read as a formula are neutralised with a leading
apostrophe, since submissions are written by the public (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "SUBMISSION_HEADERS",
    "Cell",
    "ExportRow",
    "SubmissionLabels",
    "neutralise",
    "rows_csv",
    "rows_xlsx",
    "submissions_csv",
    "submissions_xlsx",
]

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for
# every timestamp this service stores and needs no time zone database on the server.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


@dataclass(frozen=True)
class SubmissionLabels:
    """The Chinese names the caller gives its codes: checks, channels, statuses; `untagged`
    for a submission no check was given yet. This module only prints them."""

    checks: Mapping[int, str]
    channels: Mapping[str, str]
    statuses: Mapping[str, str]
    untagged: str

    def check(self, check: int | None) -> str:
        return self.untagged if check is None else self.checks.get(check, str(check))


Cell = str | int | float | bool | date | datetime | None

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_DATE_FORMAT = "yyyy-mm-dd"
_MAX_COLUMN_WIDTH = 60
_HEADER_FILL = PatternFill("solid", fgColor="F2E6E6")


@dataclass(frozen=True)
class ExportRow:
    """One submission as exported. ``name`` and ``contact`` are dropped for anonymous rows."""

    id: int
    unit: str
    channel: str
    role: str
    anonymous: bool
    text: str
    check: int | None
    check_score: float | None
    status: str
    created_at: datetime
    name: str | None = None
    contact: str | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("ExportRow.created_at must be timezone-aware")


SUBMISSION_HEADERS: tuple[str, ...] = (
    "编号",
    "单位",
    "渠道",
    "身份",
    "匿名",
    "意见内容",
    "五查类别",
    "归类得分",
    "状态",
    "提交时间",
    "姓名",
    "联系方式",
)


def neutralise(value: str) -> str:
    """Prefix text that a spreadsheet would evaluate as a formula with an apostrophe."""
    return "'" + value if value.startswith(_FORMULA_TRIGGERS) else value


def _submission_cells(row: ExportRow, labels: SubmissionLabels) -> list[Cell]:
    # Belt and braces: an anonymous submission must never leak identity into an export,
    # even if the caller passed it along by mistake.
    name = None if row.anonymous else row.name
    contact = None if row.anonymous else row.contact
    return [
        row.id,
        row.unit,
        labels.channels.get(row.channel, row.channel),
        row.role,
        "是" if row.anonymous else "否",
        row.text,
        labels.check(row.check),
        None if row.check_score is None else round(row.check_score, 3),
        labels.statuses.get(row.status, row.status),
        row.created_at,
        name,
        contact,
    ]


# --- xlsx -----------------------------------------------------------------------------------


def _xlsx_value(value: Cell) -> Cell:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones; show the wall-clock time people in China read.
        return value.astimezone(SHANGHAI).replace(tzinfo=None)
    return value


def _display_width(value: Cell) -> int:
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = "" if value is None else str(value)
    longest = max(text.split("\n"), key=len, default="")
    # Wide (CJK) characters take two columns of a fixed-width character grid.
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in longest)


def _fill_sheet(sheet: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    sheet.append([neutralise(header) for header in headers])
    widths = [_display_width(header) for header in headers]
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
        widths = [
            max(width, _display_width(value)) for width, value in zip(widths, row, strict=True)
        ]
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = _HEADER_FILL
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            cell.alignment = wrap
            if isinstance(cell.value, datetime):
                cell.number_format = _DATETIME_FORMAT
            elif isinstance(cell.value, date):
                cell.number_format = _DATE_FORMAT
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, _MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"
    if sheet.max_row > 1:
        sheet.auto_filter.ref = sheet.dimensions


def _new_workbook() -> tuple[Workbook, Worksheet]:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new Workbook always has one sheet
    return book, sheet


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rows_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, sheet_title: str) -> bytes:
    """A one-sheet workbook: bold frozen header row, wrapped text, fitted column widths.

    Aware datetimes are shown in Beijing time; text is neutralised against formulas.
    """
    book, sheet = _new_workbook()
    sheet.title = sheet_title
    _fill_sheet(sheet, headers, rows)
    return _save(book)


def _summary_sheet(
    sheet: Worksheet,
    rows: Sequence[ExportRow],
    labels: SubmissionLabels,
    title: str,
    summary: Mapping[str, Cell] | None,
) -> None:
    sheet.title = "汇总"
    sheet.append([neutralise(title)])
    sheet["A1"].font = Font(bold=True, size=14)
    for key, value in (summary or {}).items():
        sheet.append([neutralise(key), _xlsx_value(value)])
    sheet.append(["意见总数", len(rows)])

    checks = Counter(labels.check(row.check) for row in rows)
    untagged = [labels.untagged] if labels.untagged in checks else []
    check_labels = [*labels.checks.values(), *untagged]
    sections: list[tuple[str, list[tuple[str, int]]]] = [
        ("五查类别", [(label, checks[label]) for label in check_labels]),
        ("办理状态", _counted(rows, lambda row: row.status, labels.statuses)),
        ("来源渠道", _counted(rows, lambda row: row.channel, labels.channels)),
    ]
    bold = Font(bold=True)
    for heading, counts in sections:
        sheet.append([])
        sheet.append([heading, "条数"])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
            cell.fill = _HEADER_FILL
        for label, count in counts:
            sheet.append([neutralise(label), count])
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, datetime):
                cell.number_format = _DATETIME_FORMAT
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 20


def _counted(
    rows: Sequence[ExportRow], key: Callable[[ExportRow], str], labels: Mapping[str, str]
) -> list[tuple[str, int]]:
    """Counts per code in the order of ``labels`` (all shown, even at zero), unknown last."""
    counts = Counter(key(row) for row in rows)
    known = [(label, counts[code]) for code, label in labels.items()]
    unknown = [(code, count) for code, count in sorted(counts.items()) if code not in labels]
    return known + unknown


def submissions_xlsx(
    rows: Sequence[ExportRow],
    *,
    labels: SubmissionLabels,
    title: str,
    summary: Mapping[str, Cell] | None = None,
) -> bytes:
    """Workbook of submissions: 汇总 (counts per check, status and channel, preceded by the
    ``summary`` key/value lines such as 导出时间 or 单位), 全部意见, then one sheet per check.
    """
    book, sheet = _new_workbook()
    _summary_sheet(sheet, rows, labels, title, summary)
    _fill_sheet(
        book.create_sheet("全部意见"),
        SUBMISSION_HEADERS,
        (_submission_cells(row, labels) for row in rows),
    )
    for check, name in labels.checks.items():
        _fill_sheet(
            book.create_sheet(f"{check} {name}"),
            SUBMISSION_HEADERS,
            (_submission_cells(row, labels) for row in rows if row.check == check),
        )
    return _save(book)


# --- CSV ------------------------------------------------------------------------------------


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value)) if isinstance(value, str) else str(value)


def rows_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """CSV in UTF-8 with a byte order mark, which Excel needs to read Chinese correctly.

    Lines end in CRLF as RFC 4180 says; aware datetimes are written in Beijing time.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_value(header) for header in headers])
    writer.writerows([_csv_value(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def submissions_csv(rows: Iterable[ExportRow], *, labels: SubmissionLabels) -> bytes:
    """All submissions as CSV, with the same columns as the xlsx 全部意见 sheet."""
    return rows_csv(SUBMISSION_HEADERS, (_submission_cells(row, labels) for row in rows))
