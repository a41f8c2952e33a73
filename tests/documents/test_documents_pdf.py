from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from app.documents.fonts import CjkFonts
from app.documents.pdf import (
    Link,
    Phase,
    default_code_url,
    evaluation_forms_pdf,
    group_code,
    poster_pdf,
    solicitation_letter_pdf,
)

UNIT = "故县镇第一初级中学"
BUREAU = "灵宝市教育体育局"
CAMPAIGN = "解放思想、更新观念、开拓创新大讨论活动"
FORM_URL = "https://yijian.example.cn/f/gx1z"
SHORT_URL = "https://yijian.example.cn/s/k3m9xp"
FORM = Link(FORM_URL, SHORT_URL)
EVAL_URL = "https://yijian.example.cn/e/gx1z"
EMAIL = "yijian@gx1z.example.cn"
PHASES = [
    Phase("宣传发动、学习讨论阶段", date(2023, 9, 17), date(2023, 10, 10)),
    Phase("查找差距、征求意见阶段", date(2023, 10, 11), date(2023, 10, 31)),
    Phase("整改提高、完善机制阶段", date(2023, 11, 1), date(2023, 11, 15)),
]
AUDIENCES = {
    "家长": Link(f"{FORM_URL}?r=parent", "https://yijian.example.cn/s/a2b3c4"),
    "离退休老同志": Link(f"{FORM_URL}?r=retired", "https://yijian.example.cn/s/d5e6f7"),
}
INTRO = (
    "为深入扎实地开展大讨论活动，按照教育体育局党委的部署和要求，我校开展本次活动。\n"
    "广泛听取家长、离退休老同志和社会各界的意见建议，是本次活动的重要环节。"
)
CODES = [f"K7PM-Q2XD-{n:04d}" for n in range(6)]

Text = Callable[[bytes], str]
Decode = Callable[[bytes, int], list[str]]


def letter(fonts: CjkFonts, **overrides: object) -> bytes:
    arguments: dict[str, object] = {
        "unit_name": UNIT,
        "bureau_name": BUREAU,
        "campaign_title": CAMPAIGN,
        "intro_text": INTRO,
        "form": FORM,
        "email": EMAIL,
        "phases": PHASES,
        "issued_on": date(2023, 9, 17),
        "fonts": fonts,
    }
    arguments.update(overrides)
    return solicitation_letter_pdf(**arguments)  # type: ignore[arg-type]


def poster(
    fonts: CjkFonts, *, email: str | None = EMAIL, unit_name: str = UNIT, form: Link = FORM
) -> bytes:
    return poster_pdf(
        unit_name=unit_name,
        campaign_title=CAMPAIGN,
        form=form,
        email=email,
        deadline=date(2023, 10, 31),
        fonts=fonts,
    )


def test_letter_text(fonts: CjkFonts, pdf_text: Text) -> None:
    text = pdf_text(letter(fonts))
    for phrase in [
        UNIT,
        BUREAU,
        CAMPAIGN,
        SHORT_URL,
        EMAIL,
        "意见建议的函",
        "尊敬的家长、离退休老同志、各位朋友：",
        "我校开展本次活动",
        "是本次活动的重要环节",
        "宣传发动、学习讨论阶段：2023年9月17日至2023年10月10日",
        "整改提高、完善机制阶段：2023年11月1日至2023年11月15日",
        "扫描",
        "意见箱",
        "匿名",
        "回执码",
        "唯一",
        "不保存任何能识别您身份的信息",
        "2023年9月17日",
    ]:
        assert phrase in text, phrase
    assert text.rstrip("—1").endswith(f"{UNIT}2023年9月17日")


def test_letter_without_email_or_audiences_fits_one_page(
    fonts: CjkFonts, pdf_text: Text, page_count: Callable[[bytes], int], decode_pdf_page: Decode
) -> None:
    pdf = letter(fonts, email=None, phases=[])
    text = pdf_text(pdf)
    assert "电子邮件" not in text
    assert "活动安排" not in text
    assert page_count(pdf) == 1
    assert decode_pdf_page(pdf, 1) == [FORM_URL]


def test_letter_accepts_phase_tuples(fonts: CjkFonts, pdf_text: Text) -> None:
    pdf = letter(fonts, phases=[("查找差距阶段", date(2023, 10, 11), date(2023, 10, 31))])
    assert "查找差距阶段：2023年10月11日至2023年10月31日" in pdf_text(pdf)


def test_letter_qr_codes(
    fonts: CjkFonts, pdf_text: Text, page_count: Callable[[bytes], int], decode_pdf_page: Decode
) -> None:
    pdf = letter(fonts, audience_links=AUDIENCES)
    found = [url for page in range(1, page_count(pdf) + 1) for url in decode_pdf_page(pdf, page)]
    assert sorted(found) == sorted([FORM_URL, *(link.full for link in AUDIENCES.values())])
    text = pdf_text(pdf)
    assert all(label in text and link.short in text for label, link in AUDIENCES.items())


def test_long_letter_flows_onto_more_pages(
    fonts: CjkFonts, pdf_text: Text, page_count: Callable[[bytes], int]
) -> None:
    pdf = letter(fonts, intro_text="\n".join([INTRO] * 12))
    assert page_count(pdf) >= 2
    assert "—2—" in pdf_text(pdf)


def test_poster(
    fonts: CjkFonts, pdf_text: Text, page_count: Callable[[bytes], int], decode_pdf_page: Decode
) -> None:
    pdf = poster(fonts)
    text = pdf_text(pdf)
    for phrase in [
        UNIT,
        CAMPAIGN,
        SHORT_URL,
        EMAIL,
        "扫码提意见",
        "可匿名",
        "回执码",
        "截止日期：2023年10月31日",
    ]:
        assert phrase in text, phrase
    assert page_count(pdf) == 1
    assert decode_pdf_page(pdf, 1) == [FORM_URL]


def test_poster_without_email(fonts: CjkFonts, pdf_text: Text) -> None:
    pdf = poster(fonts, email=None)
    assert "电子邮件" not in pdf_text(pdf)


def test_evaluation_forms(
    fonts: CjkFonts, pdf_text: Text, page_count: Callable[[bytes], int], decode_pdf_page: Decode
) -> None:
    pdf = evaluation_forms_pdf(
        unit_name=UNIT, campaign_title=CAMPAIGN, eval_url=EVAL_URL, codes=CODES, fonts=fonts
    )
    text = pdf_text(pdf)
    assert text.count("群众评议表") == len(CODES)
    assert text.count(UNIT) == len(CODES)
    assert EVAL_URL in text
    for code in CODES:
        assert group_code(code).replace(" ", "") in text
    assert page_count(pdf) == 2  # four forms per page
    assert len(decode_pdf_page(pdf, 1)) == 4
    found = decode_pdf_page(pdf, 1) + decode_pdf_page(pdf, 2)
    assert sorted(found) == sorted(f"{EVAL_URL}?code={code}" for code in CODES)


@pytest.mark.parametrize(
    ("code_url", "expected"),
    [
        ("{eval_url}/{code}", f"{EVAL_URL}/AB%2FC"),
        (lambda code: f"https://x.example/{code.lower()}", "https://x.example/ab/c"),
    ],
)
def test_evaluation_code_url_override(
    fonts: CjkFonts, decode_pdf_page: Decode, code_url: object, expected: str
) -> None:
    pdf = evaluation_forms_pdf(
        unit_name=UNIT,
        campaign_title=CAMPAIGN,
        eval_url=EVAL_URL,
        codes=["AB/C"],
        code_url=code_url,  # type: ignore[arg-type]
        fonts=fonts,
    )
    assert decode_pdf_page(pdf, 1) == [expected]


def test_evaluation_forms_need_codes(fonts: CjkFonts) -> None:
    with pytest.raises(ValueError, match="no evaluation codes"):
        evaluation_forms_pdf(
            unit_name=UNIT, campaign_title=CAMPAIGN, eval_url=EVAL_URL, codes=[], fonts=fonts
        )


def test_default_code_url_respects_existing_query() -> None:
    assert default_code_url("https://a.example/e", "X Y") == "https://a.example/e?code=X%20Y"
    assert default_code_url("https://a.example/e?u=3", "AB") == "https://a.example/e?u=3&code=AB"


def test_group_code() -> None:
    assert group_code("K7PM-Q2XD-9HTA") == "K7PM Q2XD 9HTA"
    assert group_code("abcdefghij") == "abcd efgh ij"
    assert group_code("abcdef", size=3) == "abc def"


def test_fonts_are_embedded_subsets(fonts: CjkFonts) -> None:
    pdf = poster(fonts, email=None)
    # Subset fonts carry a six-letter tag; a full CJK font would make this megabytes.
    assert b"+Noto" in pdf or b"FontFile" in pdf
    assert len(pdf) < 300_000


# The longest realistic names: a school group's campus under a county, a county domain.
LONG_UNIT = "某某省某某市某某县第二实验小学教育集团（北校区）"
LONG_BASE = "https://yijian.jiaoyu.example-county.gov.cn"
LONG_SLUG = "mou-xian-di-er-shiyan-xiaoxue-jiaoyu-jituan-bei-xiaoqu"
LONG_EMAIL = "yijian-beixiaoqu@di2shiyan.jiaoyu.example-county.gov.cn"
LONG_FORM = Link(f"{LONG_BASE}/u/{LONG_SLUG}", f"{LONG_BASE}/s/k3m9xp")
LONG_AUDIENCES = {
    label: Link(f"{LONG_BASE}/u/{LONG_SLUG}?a={code}", f"{LONG_BASE}/s/{short}")
    for label, code, short in [
        ("家长", "parent", "a2b3c4"),
        ("离退休干部", "retiree", "d5e6f7"),
        ("教职工", "staff", "g8h9jk"),
        ("社会各界", "community", "mn2pq3"),
    ]
}


def text_lines(tmp_path: Path, pdf: bytes) -> list[str]:
    """The PDF's lines as pdftotext reads them, spaces inside a line kept."""
    path = tmp_path / "lines.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"], check=True, capture_output=True
    )
    return result.stdout.decode("utf-8").splitlines()


def whole_on_a_line(lines: list[str], address: str) -> bool:
    """The address appears on one line, not as a prefix of a longer word."""
    return any(address in line.split() or address + "；" in line.split() for line in lines)


def test_letter_with_longest_names_fits_one_page_and_keeps_urls_whole(
    fonts: CjkFonts, tmp_path: Path, page_count: Callable[[bytes], int], decode_pdf_page: Decode
) -> None:
    pdf = letter(
        fonts,
        unit_name=LONG_UNIT,
        bureau_name="某某省某某市某某县教育和体育局",
        form=LONG_FORM,
        email=LONG_EMAIL,
        audience_links=LONG_AUDIENCES,
    )
    assert page_count(pdf) == 1
    lines = text_lines(tmp_path, pdf)
    for address in [LONG_FORM.short, LONG_EMAIL, *(link.short for link in LONG_AUDIENCES.values())]:
        assert whole_on_a_line(lines, address), (address, lines)
    # Nothing but whole addresses: no line carries a piece of the domain after a break.
    assert all(
        word.startswith(LONG_BASE) or "example-county" not in word or word.startswith("yijian-bei")
        for line in lines
        for word in line.split()
    ), lines
    expected = [LONG_FORM.full, *(link.full for link in LONG_AUDIENCES.values())]
    assert sorted(decode_pdf_page(pdf, 1)) == sorted(expected)


def test_poster_with_longest_names_keeps_urls_whole(
    fonts: CjkFonts, tmp_path: Path, page_count: Callable[[bytes], int], decode_pdf_page: Decode
) -> None:
    pdf = poster(fonts, email=LONG_EMAIL, unit_name=LONG_UNIT, form=LONG_FORM)
    assert page_count(pdf) == 1
    lines = text_lines(tmp_path, pdf)
    assert whole_on_a_line(lines, LONG_FORM.short) and whole_on_a_line(lines, LONG_EMAIL)
    assert decode_pdf_page(pdf, 1) == [LONG_FORM.full]


def test_evaluation_forms_keep_a_long_url_whole(
    fonts: CjkFonts, tmp_path: Path, decode_pdf_page: Decode
) -> None:
    eval_url = f"{LONG_BASE}/u/{LONG_SLUG}/evaluate"
    pdf = evaluation_forms_pdf(
        unit_name=LONG_UNIT,
        campaign_title=CAMPAIGN,
        eval_url=eval_url,
        codes=CODES[:4],
        fonts=fonts,
    )
    lines = text_lines(tmp_path, pdf)
    assert sum(line.split().count(eval_url) for line in lines) == 4, lines
    assert len(decode_pdf_page(pdf, 1)) == 4
