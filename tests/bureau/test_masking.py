"""The proposed masks: phones, ID numbers, emails, names after 我是/我叫/我的孩子, classes."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.bureau.masking import MaskKind, find_masks, mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678", "电话〔电话〕"),
        ("手机 138 1234 5678 或 +86 13912345678", "手机 〔电话〕 或 〔电话〕"),
        ("座机0371-12345678，请回电", "座机〔电话〕，请回电"),
        ("身份证110101199003071234", "身份证〔身份证号〕"),
        ("身份证号 11010119900307123X。", "身份证号 〔身份证号〕。"),
        ("邮箱 zhang.wei+1@mail.example.cn 可以联系", "邮箱 〔邮箱〕 可以联系"),
        ("我是张伟，家住城东", "我是〔姓名〕，家住城东"),
        ("我叫王芳的妈妈", "我叫〔姓名〕的妈妈"),
        ("我的孩子叫李小明，", "我的孩子叫〔姓名〕，"),
        ("我的孩子王小红在初二（3）班", "我的孩子〔姓名〕在〔班级〕"),
        ("我女儿叫陈静。", "我女儿叫〔姓名〕。"),
        ("我是三年级二班的家长", "我是〔班级〕的家长"),
        ("我是三年级二班王小明的家长", "我是〔班级〕〔姓名〕的家长"),
        ("我的孩子在初二(3)班", "我的孩子在〔班级〕"),
        ("初二(3)班和高一3班都一样", "〔班级〕和〔班级〕都一样"),
        ("七年级（12）班", "〔班级〕"),
        # Not names: what follows 我是 describes, it does not name.
        ("我是一名家长", "我是一名家长"),
        ("我是家长，孩子在学校", "我是家长，孩子在学校"),
        ("我是学生", "我是学生"),
        # Numbers that are neither phones nor ID numbers stay.
        ("食堂一份饭12元，共300人", "食堂一份饭12元，共300人"),
        ("20240501", "20240501"),
        ("学号2024010203040，", "学号〔号码〕，"),
    ],
)
def test_masks(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_an_id_number_is_one_mask_not_a_phone_inside_it() -> None:
    masks = find_masks("号码110101199003071234")
    assert [(m.kind, m.start, m.end) for m in masks] == [(MaskKind.id_card, 2, 20)]


FILLER = st.text(alphabet="食堂操场的学校很好，。、老师作业太多了", max_size=20)
MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
ID_CARD = st.from_regex(r"[1-6][0-9]{16}[0-9X]", fullmatch=True)
EMAIL = st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|cn)", fullmatch=True)
SECRET = st.one_of(MOBILE, ID_CARD, EMAIL)


@given(st.lists(st.tuples(FILLER, SECRET), min_size=1, max_size=4), FILLER)
def test_no_number_or_address_survives(parts: list[tuple[str, str]], tail: str) -> None:
    text = "".join(f + s for f, s in parts) + tail
    out = mask_text(text)
    for _, secret in parts:
        assert secret not in out
    assert not re.search(r"[0-9]{7}|@", out)


@given(st.text(alphabet="食堂操场的学校很好，。、老师作业太多了我是家长12", max_size=60))
def test_masking_is_idempotent_and_leaves_harmless_text(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once
    if not find_masks(text):
        assert once == text


@given(st.text(max_size=200))
def test_masks_never_overlap_and_stay_in_the_text(text: str) -> None:
    masks = find_masks(text)
    for a, b in itertools.pairwise(masks):
        assert a.end <= b.start
    assert all(0 <= m.start < m.end <= len(text) for m in masks)
