"""The content of an official document (公文), independent of the file format it is set in.

A report is built once as an ``OfficialDocument`` and set as Word (``docx``) or PDF
(``report_pdf``); both follow GB/T 9704 as far as their format allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True)
class Heading:
    """``level`` 1: 一、 (黑体), 2: （一） (楷体), 3: 1. (仿宋 bold)."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """Body text; ``indent`` adds the customary two-character first-line indent."""

    text: str
    indent: bool = True


@dataclass(frozen=True)
class Placeholder:
    """A line the office must replace before sending (shown highlighted)."""

    text: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Heading | Paragraph | Placeholder | Table


@dataclass(frozen=True)
class OfficialDocument:
    title: str
    addressee: str | None  # 主送机关, e.g. 教体局大讨论活动办公室
    blocks: tuple[Block, ...]
    issuer: str  # 发文机关署名
    issued_on: date  # 成文日期

    @property
    def issued_text(self) -> str:
        return chinese_numeral_date(self.issued_on)


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals, as dates and headings write them: 十, 十一, 二十, 三十一."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    head = "十" if tens == 1 else _DIGITS[tens] + "十"
    return head + (_DIGITS[ones] if ones else "")


def chinese_numeral_date(value: date) -> str:
    """A date as offices write 成文日期: 二〇二六年十二月七日."""
    year = "".join(_DIGITS[int(d)] for d in str(value.year))
    return f"{year}年{chinese_number(value.month)}月{chinese_number(value.day)}日"
