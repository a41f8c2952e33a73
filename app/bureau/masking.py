"""Proposing masks for what could identify a sender or a child in a text (pure, no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class MaskKind(StrEnum):
    id_card = "id_card"
    phone = "phone"
    email = "email"
    name = "name"
    class_name = "class_name"
    number = "number"


# What replaces each kind: a reader still sees that something was there, and what kind.
PLACEHOLDERS: dict[MaskKind, str] = {
    MaskKind.id_card: "〔身份证号〕",
    MaskKind.phone: "〔电话〕",
    MaskKind.email: "〔邮箱〕",
    MaskKind.name: "〔姓名〕",
    MaskKind.class_name: "〔班级〕",
    MaskKind.number: "〔号码〕",
}

_DIGIT = r"[0-9０-９]"
_SEP = r"[\s\-－]?"
_NUM = r"[0-9０-９一二三四五六七八九十]"
# 三年级二班, 七年级（2）班, 初二(3)班, 高一3班, 初三 2 班.
_CLASS = rf"(?:{_NUM}{{1,2}}年级|[初高][一二三１-３1-3])\s*[(（]?\s*{_NUM}{{1,3}}\s*[)）]?\s*班"
_PATTERNS: tuple[tuple[MaskKind, re.Pattern[str]], ...] = (
    # 18 digits (the last may be X) or the old 15; not inside a longer run of digits.
    (
        MaskKind.id_card,
        re.compile(rf"(?<![0-9０-９])(?:{_DIGIT}{{17}}[0-9０-９Xx]|{_DIGIT}{{15}})(?![0-9０-９])"),
    ),
    # Loose on purpose: two addresses run together, or one without a dot, still go.
    (MaskKind.email, re.compile(r"[A-Za-z0-9._%+\-]*[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*")),
    # Mobiles (1[3-9]x, in 3-4-4 groups or not, +86 or not) and landlines (0xx(x)-xxxxxxx(x)).
    (
        MaskKind.phone,
        re.compile(
            rf"(?<![0-9０-９])(?:(?:\+?86{_SEP})?[1１][3-9３-９]{_DIGIT}{_SEP}{_DIGIT}{{4}}"
            rf"{_SEP}{_DIGIT}{{4}}|[0０]{_DIGIT}{{2,3}}[\-－]?{_DIGIT}{{7,8}})(?![0-9０-９])"
        ),
    ),
    # Any other run of 11 digits or more (two numbers run together, a student or card number).
    (MaskKind.number, re.compile(rf"{_DIGIT}{{11,}}")),
    (MaskKind.class_name, re.compile(_CLASS)),
)
# A name follows 我是 / 我叫 / 我的孩子(叫) / 孩子叫 / 我女儿(叫) ...: two to four Han characters
# up to a particle or a word that starts what is said about the person; a class may come
# between (我是三年级二班王小明的家长).
_NAME_AFTER = re.compile(
    r"(?:我叫|我是|我的(?:孩子|儿子|女儿)(?:叫|是|名叫)?|(?:孩子|儿子|女儿)(?:叫|名叫))\s*"
    rf"(?:{_CLASS}\s*)?([\u4e00-\u9fff]{{2,4}})"
)
_NAME_STOP = re.compile(r"[的是在和从今现也还就已了，。、]|家长|妈妈|爸爸|同学|老师|学生")
_NOT_NAMES = (
    "一名",
    "一位",
    "一个",
    "家长",
    "学生",
    "老师",
    "孩子",
    "这个",
    "那个",
    "本校",
    "贵校",
    "该校",
    "他们",
    "我们",
    "某某",
    "班主任",
    "〔",
)


@dataclass(frozen=True)
class Mask:
    start: int
    end: int
    kind: MaskKind


def find_masks(text: str) -> list[Mask]:
    """Spans of text that could identify someone, left to right, never overlapping."""
    found = [
        Mask(m.start(), m.end(), kind)
        for kind, pattern in _PATTERNS
        for m in pattern.finditer(text)
    ]
    for m in _NAME_AFTER.finditer(text):
        name = m.group(1)
        stop = _NAME_STOP.search(name)
        name = name[: stop.start()] if stop else name
        if len(name) >= 2 and not name.startswith(_NOT_NAMES):
            found.append(Mask(m.start(1), m.start(1) + len(name), MaskKind.name))
    # Earliest first, the longer of two at one place; a span inside a kept one is dropped.
    found.sort(key=lambda k: (k.start, -k.end))
    kept: list[Mask] = []
    for mask in found:
        if not kept or mask.start >= kept[-1].end:
            kept.append(mask)
    return kept


def mask_text(text: str) -> str:
    """The text with every span of find_masks replaced by its kind's placeholder."""
    out: list[str] = []
    at = 0
    for mask in find_masks(text):
        out.append(text[at : mask.start])
        out.append(PLACEHOLDERS[mask.kind])
        at = mask.end
    out.append(text[at:])
    return "".join(out)
