"""Printable A4 PDFs for a campaign: solicitation letter, poster, evaluation forms.

Text is set in an embedded, subsetted CJK font (see ``fonts``) so every viewer shows it and
``pdftotext`` extracts it. QR codes are vector drawings. Every function returns PDF bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from urllib.parse import quote

from app.documents._layout import (
    ACCENT,
    MUTED,
    PAGE_H,
    PAGE_W,
    PARAGRAPH_INDENT,
    WHITE,
    Document,
    Style,
    chinese_date,
)
from app.documents.fonts import CjkFonts, find_cjk_fonts

__all__ = [
    "Link",
    "Phase",
    "default_code_url",
    "evaluation_forms_pdf",
    "group_code",
    "poster_pdf",
    "solicitation_letter_pdf",
]

SALUTATION = "尊敬的家长、离退休老同志、各位朋友："
ANONYMITY_TEXT = (
    "您可以署名提出意见，也可以匿名提出。匿名提交时不需要填写姓名和联系方式，"
    "我们不保存任何能识别您身份的信息。提交后页面会显示一个回执码，"
    "这是您日后查看办理情况和答复的唯一途径，请抄下或截图妥善保存；"
    "回执码遗失后无法补发，我们也无法联系到您。"
)
POSTER_SLOGAN = "扫码提意见·可匿名"


@dataclass(frozen=True)
class Phase:
    """One stage of the campaign plan, e.g. 查找差距、征求意见阶段, with inclusive dates."""

    name: str
    start: date
    end: date

    @classmethod
    def of(cls, value: Phase | tuple[str, date, date]) -> Phase:
        return value if isinstance(value, Phase) else cls(*value)

    def describe(self) -> str:
        return f"{self.name}：{chinese_date(self.start)}至{chinese_date(self.end)}"


def _document(
    fonts: CjkFonts | None, *, title: str, author: str, margin: float, page_numbers: bool = False
) -> Document:
    doc = Document(
        fonts or find_cjk_fonts(),
        title=title,
        author=author,
        margin=margin,
        page_numbers=page_numbers,
    )
    doc.add_page()
    return doc


def _qr_with_caption(
    doc: Document,
    url: str,
    *,
    x: float,
    y: float,
    size: float,
    caption: str,
    style: Style,
    caption_width: float | None = None,
) -> float:
    """Draw a QR code with a caption centred below it; return the caption's bottom edge."""
    doc.qr(url, x=x, y=y, size=size)
    doc.y = y + size + 0.5
    width = caption_width or size + 8
    doc.text(caption, style, align="C", x=x + (size - width) / 2, width=width)
    return doc.y


# --- 征求意见函 -----------------------------------------------------------------------------

_LETTER_TITLE = Style(20, bold=True, leading=1.45)
_LETTER_UNIT = Style(15, bold=True, colour=ACCENT)
_LETTER_BODY = Style(11.5, leading=1.7)
_LETTER_SECTION = Style(12, bold=True, leading=1.85)
_LETTER_URL = Style(11, bold=True, leading=1.7)
_LETTER_CAPTION = Style(9, colour=MUTED, leading=1.4)
_LETTER_AUDIENCE_URL = Style(9, bold=True, leading=1.55)
# Text sizes tried in turn until the letter fits one sheet: a second page for two lines is
# a second sheet per household.
_LETTER_SCALES = (1.0, 0.96, 0.92, 0.88, 0.84, 0.8)


@dataclass(frozen=True)
class Link:
    """A web address twice: in full in its QR code, short where a person types it from paper."""

    full: str
    short: str


@dataclass(frozen=True)
class _LetterStyles:
    title: Style
    unit: Style
    body: Style
    section: Style
    url: Style
    caption: Style
    audience_url: Style

    @classmethod
    def at(cls, scale: float) -> _LetterStyles:
        return cls(
            title=_LETTER_TITLE.scaled(scale),
            unit=_LETTER_UNIT.scaled(scale),
            body=_LETTER_BODY.scaled(scale),
            section=_LETTER_SECTION.scaled(scale),
            url=_LETTER_URL.scaled(scale),
            caption=_LETTER_CAPTION.scaled(scale),
            audience_url=_LETTER_AUDIENCE_URL.scaled(scale),
        )


def solicitation_letter_pdf(
    *,
    unit_name: str,
    bureau_name: str,
    campaign_title: str,
    intro_text: str,
    form: Link,
    email: str | None,
    phases: Sequence[Phase | tuple[str, date, date]],
    audience_links: Mapping[str, Link] | None = None,
    issued_on: date | None = None,
    fonts: CjkFonts | None = None,
) -> bytes:
    """An A4 征求意见函 from ``unit_name`` for the campaign run by ``bureau_name``.

    ``intro_text`` may hold several paragraphs separated by newlines. ``audience_links`` maps a
    group (e.g. 家长) to its own form link, each printed with a small QR code. ``issued_on``
    defaults to today and is the date under the signature. The text shrinks a little, step by
    step, until the letter fits one page; only a very long introduction still takes two.
    """
    layout = partial(
        _letter,
        fonts or find_cjk_fonts(),
        unit_name=unit_name,
        bureau_name=bureau_name,
        campaign_title=campaign_title,
        intro_text=intro_text,
        form=form,
        email=email,
        phases=[Phase.of(p) for p in phases],
        audience_links=audience_links or {},
        issued_on=issued_on or date.today(),
    )
    for scale in _LETTER_SCALES[:-1]:
        doc = layout(_LetterStyles.at(scale))
        if doc.pdf.pages_count == 1:
            return doc.output()
        doc.discard()
    return layout(_LetterStyles.at(_LETTER_SCALES[-1])).output()


def _letter(
    fonts: CjkFonts,
    st: _LetterStyles,
    *,
    unit_name: str,
    bureau_name: str,
    campaign_title: str,
    intro_text: str,
    form: Link,
    email: str | None,
    phases: Sequence[Phase],
    audience_links: Mapping[str, Link],
    issued_on: date,
) -> Document:
    doc = _document(
        fonts, title=f"{unit_name}征求意见函", author=unit_name, margin=22, page_numbers=True
    )
    width = doc.content_width

    doc.y = 24
    doc.text(unit_name, st.unit, align="C")
    doc.text(
        f"关于征求“{campaign_title.strip('“”')}”意见建议的函",
        st.title,
        align="C",
        balanced=True,
        space_after=2,
    )
    doc.rule(doc.margin, doc.y, doc.margin + width, doc.y, colour=ACCENT, width=0.6)
    doc.y = doc.y + 4

    doc.text(SALUTATION, st.body)
    for paragraph in intro_text.splitlines():
        if paragraph.strip():
            doc.paragraph(paragraph, st.body)
    doc.paragraph(
        f"根据{bureau_name}的统一部署，我们真诚地希望听到您对我们工作的意见和建议，"
        "无论是批评还是期望，我们都将认真梳理、逐条研究，并及时反馈办理情况。"
        "现将有关事项告知如下：",
        st.body,
    )

    numbers = iter("一二三四五六七八九十")
    if phases:
        doc.text(f"{next(numbers)}、活动安排", st.section)
        for phase in phases:
            doc.text(PARAGRAPH_INDENT + phase.describe(), st.body)

    _letter_channels(doc, st, f"{next(numbers)}、提出意见的方式", form, email)
    if audience_links:
        _audience_codes(doc, st, audience_links)

    doc.text(f"{next(numbers)}、关于匿名", st.section)
    doc.paragraph(ANONYMITY_TEXT, st.body)
    doc.paragraph("衷心感谢您对我们工作的关心和支持！", st.body)

    signature = [unit_name, chinese_date(issued_on)]
    # A little slack so the widest line is not wrapped by rounding.
    block = min(width, max(doc.text_width(line, st.body) for line in signature) + 2)
    doc.ensure_room(st.body.line_height * 2.25)
    doc.y = doc.y + st.body.line_height / 4
    for line in signature:
        # Centred over each other and flush right, as a signature block is laid out.
        doc.text(line, st.body, align="C", x=doc.margin + width - block, width=block)
    return doc


def _letter_channels(
    doc: Document, st: _LetterStyles, heading: str, form: Link, email: str | None
) -> None:
    """The numbered ways to send an opinion, with the form's QR code floated to the right.

    Addresses stand on lines of their own, whole, so they can be typed and copied as printed.
    """
    qr_size = 32.0
    gap = 6.0
    text_width = doc.content_width - qr_size - gap
    indent = doc.text_width(PARAGRAPH_INDENT, st.body)
    channels: list[tuple[str, str | None]] = [
        ("用手机扫描右侧二维码，在线填写意见；", None),
        ("在电脑或手机浏览器中打开网址：", form.short),
    ]
    if email:
        channels.append(("发送电子邮件至：", email))
    channels.append(("写成书面意见，投入本单位的意见箱，或邮寄、送交办公室。", None))

    doc.ensure_room(st.section.line_height + qr_size + 8)
    doc.text(heading, st.section)
    top = doc.y
    for number, (channel, address) in enumerate(channels, start=1):
        doc.text(f"{PARAGRAPH_INDENT}{number}. {channel}", st.body, width=text_width)
        if address:
            doc.whole_line(
                address, st.url, x=doc.margin + 2 * indent, width=text_width - 2 * indent
            )
    text_bottom = doc.y
    qr_bottom = _qr_with_caption(
        doc,
        form.full,
        x=doc.margin + text_width + gap,
        y=top,
        size=qr_size,
        caption="扫码提意见",
        style=st.caption,
    )
    doc.y = max(text_bottom, qr_bottom) + 1


def _audience_codes(doc: Document, st: _LetterStyles, links: Mapping[str, Link]) -> None:
    """A row of small labelled QR codes, one per audience, then each group's short address."""
    size = 22.0
    per_row = 4
    pitch = doc.content_width / per_row
    row_height = size + st.caption.line_height + 1.5
    lead = "不同群体也可扫描各自的专用二维码，或打开专用网址："
    # Keep the lead-in on the same page as the first row of codes.
    doc.ensure_room(st.body.line_height * 1.25 + row_height)
    doc.paragraph(lead, st.body)
    items = list(links.items())
    for start in range(0, len(items), per_row):
        doc.ensure_room(row_height)
        top = doc.y
        bottom = top
        for column, (label, link) in enumerate(items[start : start + per_row]):
            x = doc.margin + column * pitch + (pitch - size) / 2
            caption = _qr_with_caption(
                doc, link.full, x=x, y=top, size=size, caption=label, style=st.caption
            )
            bottom = max(bottom, caption)
        doc.y = bottom + 1.5
    indent = doc.text_width(PARAGRAPH_INDENT, st.body)
    label_width = max(doc.text_width(f"{label}：", st.audience_url) for label in links) + 1
    for label, link in items:
        top = doc.y
        doc.text(f"{label}：", st.audience_url, x=doc.margin + indent, width=label_width)
        doc.y = top
        doc.whole_line(
            link.short,
            st.audience_url,
            x=doc.margin + indent + label_width,
            width=doc.content_width - indent - label_width,
        )
    doc.y = doc.y + 1


# --- 海报 -----------------------------------------------------------------------------------

_POSTER_UNIT = Style(22, bold=True, colour=WHITE, leading=1.4)
_POSTER_CAMPAIGN = Style(13, colour=WHITE, leading=1.5)
_POSTER_SLOGAN = Style(40, bold=True, leading=1.3)
_POSTER_LINE = Style(15, leading=1.6)
_POSTER_URL = Style(17, bold=True, leading=1.5)
_POSTER_DEADLINE = Style(18, bold=True, colour=ACCENT, leading=1.6)
_POSTER_NOTE = Style(11, colour=MUTED, leading=1.6)


def poster_pdf(
    *,
    unit_name: str,
    campaign_title: str,
    form: Link,
    email: str | None,
    deadline: date,
    fonts: CjkFonts | None = None,
) -> bytes:
    """An A4 poster for notice boards and school gates: big QR code, big text."""
    doc = _document(fonts, title=f"{unit_name}意见征集海报", author=unit_name, margin=18)
    width = doc.content_width

    band = (
        12
        + doc.text_height(unit_name, _POSTER_UNIT)
        + doc.text_height(campaign_title, _POSTER_CAMPAIGN)
        + 10
    )
    doc.fill(0, 0, PAGE_W, band, ACCENT)
    doc.y = 12
    doc.text(unit_name, _POSTER_UNIT, align="C", balanced=True)
    doc.text(campaign_title, _POSTER_CAMPAIGN, align="C", balanced=True)

    doc.y = band + 10
    doc.text(POSTER_SLOGAN, _POSTER_SLOGAN, align="C", space_after=4)

    qr_size = 118.0
    left = (PAGE_W - qr_size) / 2
    top = doc.y
    doc.frame(left - 4, top - 4, qr_size + 8, qr_size + 8, ACCENT, radius=4)
    doc.qr(form.full, x=left, y=top, size=qr_size)
    doc.y = top + qr_size + 8

    # Each address whole on a line of its own (see Document.whole_line).
    doc.text("或在浏览器中打开网址：", _POSTER_LINE, align="C")
    doc.whole_line(form.short, _POSTER_URL, align="C")
    if email:
        doc.text("也可发送电子邮件至：", _POSTER_LINE, align="C")
        doc.whole_line(email, _POSTER_URL, align="C")
    doc.text(f"截止日期：{chinese_date(deadline)}", _POSTER_DEADLINE, align="C")

    note = (
        "匿名提交不需要姓名和电话，不保存任何身份信息。"
        "提交后请保存页面上的回执码——它是查看答复的唯一凭证。"
    )
    doc.y = PAGE_H - doc.margin - doc.text_height(note, _POSTER_NOTE, width - 20)
    doc.text(note, _POSTER_NOTE, align="C", x=doc.margin + 10, width=width - 20)
    return doc.output()


# --- 群众评议表 ------------------------------------------------------------------------------

_FORM_TITLE = Style(17, bold=True, colour=ACCENT, leading=1.4)
_FORM_UNIT = Style(11.5, bold=True, leading=1.4)
_FORM_CAMPAIGN = Style(8.5, colour=MUTED, leading=1.4)
_FORM_CODE_LABEL = Style(9, colour=MUTED, leading=1.4)
_FORM_CODE = Style(16, bold=True, leading=1.3)
_FORM_NOTE = Style(8.5, leading=1.5)

CodeUrl = str | Callable[[str], str]


def default_code_url(eval_url: str, code: str) -> str:
    """``eval_url`` with ``code=<code>`` added to its query string."""
    separator = "&" if "?" in eval_url else "?"
    return f"{eval_url}{separator}code={quote(code, safe='')}"


def group_code(code: str, size: int = 4) -> str:
    """Split a code into space-separated groups (ABCD EFGH JK) so it can be read aloud."""
    plain = "".join(char for char in code if char not in " -")
    return " ".join(plain[i : i + size] for i in range(0, len(plain), size))


def _code_url_function(eval_url: str, code_url: CodeUrl | None) -> Callable[[str], str]:
    if code_url is None:
        return lambda code: default_code_url(eval_url, code)
    if isinstance(code_url, str):
        template = code_url
        return lambda code: template.format(eval_url=eval_url, code=quote(code, safe=""))
    return code_url


def evaluation_forms_pdf(
    *,
    unit_name: str,
    campaign_title: str,
    eval_url: str,
    codes: Iterable[str],
    code_url: CodeUrl | None = None,
    printed_url: str | None = None,
    fonts: CjkFonts | None = None,
) -> bytes:
    """One-time 群众评议表, four per A4 page with dashed cut lines, one per code.

    The QR code of each form opens the evaluation page with its code filled in. By default
    that is ``eval_url?code=<code>`` (``&code=`` if ``eval_url`` already has a query).
    ``code_url`` overrides it, either as a callable ``code -> url`` or as a format string
    with the fields ``{eval_url}`` and ``{code}`` (the code is URL-quoted), for example
    ``"{eval_url}/{code}"``. The printed text shows ``printed_url`` (a short link to the
    evaluation page; ``eval_url`` by default) and the code, so someone without a phone camera
    can type them in.
    """
    url_for = _code_url_function(eval_url, code_url)
    all_codes = list(codes)
    if not all_codes:
        raise ValueError("no evaluation codes to print")
    doc = _document(fonts, title=f"{unit_name}群众评议表", author=unit_name, margin=0)
    cell_w, cell_h = PAGE_W / 2, PAGE_H / 2
    for number, code in enumerate(all_codes):
        slot = number % 4
        if number and slot == 0:
            doc.add_page()
        if slot == 0:
            _cut_lines(doc)
        x, y = (slot % 2) * cell_w, (slot // 2) * cell_h
        _evaluation_form(
            doc,
            x,
            y,
            cell_w,
            unit_name=unit_name,
            campaign_title=campaign_title,
            printed_url=printed_url or eval_url,
            code=code,
            url=url_for(code),
        )
    return doc.output()


def _cut_lines(doc: Document) -> None:
    doc.rule(PAGE_W / 2, 0, PAGE_W / 2, PAGE_H, dashed=True)
    doc.rule(0, PAGE_H / 2, PAGE_W, PAGE_H / 2, dashed=True)


def _evaluation_form(
    doc: Document,
    x: float,
    y: float,
    width: float,
    *,
    unit_name: str,
    campaign_title: str,
    printed_url: str,
    code: str,
    url: str,
) -> None:
    pad = 10.0
    inner_x, inner_w = x + pad, width - 2 * pad
    doc.y = y + pad + 5
    doc.text("群众评议表", _FORM_TITLE, align="C", x=inner_x, width=inner_w)
    doc.text(unit_name, _FORM_UNIT, align="C", x=inner_x, width=inner_w)
    doc.text(campaign_title, _FORM_CAMPAIGN, align="C", x=inner_x, width=inner_w, space_after=2)

    qr_size = 52.0
    top = doc.y
    doc.qr(url, x=x + (width - qr_size) / 2, y=top, size=qr_size)
    doc.y = top + qr_size + 1
    doc.text("评议码", _FORM_CODE_LABEL, align="C", x=inner_x, width=inner_w)
    doc.text(group_code(code), _FORM_CODE, align="C", x=inner_x, width=inner_w, space_after=2)
    doc.text(
        "请用手机扫描二维码，或在浏览器中打开下面的网址并输入评议码，"
        "对本单位的整改措施和整改情况作出评议。",
        _FORM_NOTE,
        x=inner_x,
        width=inner_w,
    )
    doc.whole_line(printed_url, _FORM_NOTE, x=inner_x, width=inner_w)
    doc.text(
        "每个评议码只能使用一次。评议不记录您的姓名等身份信息。",
        _FORM_NOTE,
        x=inner_x,
        width=inner_w,
    )
