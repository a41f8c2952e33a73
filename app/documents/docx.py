"""Word drafts of official documents, laid out after GB/T 9704-2012 (党政机关公文格式).

A4, margins 37/35/28/26 mm (top/bottom/left/right) leave the standard 156 × 225 mm type area;
body 仿宋_GB2312 三号 (16 pt) on a fixed 28.95 pt line, which gives the standard 22 lines of
28 characters; title 方正小标宋简体 二号; first-level headings 黑体, second-level 楷体_GB2312;
page numbers 4号 as "— 1 —", odd pages right and even pages left, one character in.

The fonts are named, not embedded: Word on the office's computer supplies them. The font table
names a fallback for each (w:altName: Noto Serif/Sans CJK SC) for machines without the
Chinese government fonts, e.g. LibreOffice on Linux.
"""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.oxml import serialize_part_xml
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.text.paragraph import Paragraph as DocxParagraph

from app.documents.official import Heading, OfficialDocument, Paragraph, Placeholder, Table

__all__ = ["BODY_FONT", "LINE_PITCH", "MARGINS", "TITLE_FONT", "official_docx"]

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEI_FONT = "黑体"
KAI_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
# Fallbacks written into the font table (w:altName), for computers without these fonts.
FALLBACKS = {
    TITLE_FONT: "Noto Serif CJK SC Bold",
    BODY_FONT: "Noto Serif CJK SC",
    KAI_FONT: "Noto Serif CJK SC",
    HEI_FONT: "Noto Sans CJK SC",
    PAGE_NUMBER_FONT: "Noto Serif CJK SC",
}

BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
TABLE_SIZE = Pt(12)  # 小四
PAGE_NUMBER_SIZE = Pt(14)  # 四号
# 225 mm / 22 lines = 28.95 pt (579 twips): the standard's 22 lines on a page.
LINE_PITCH = Pt(28.95)
TWO_CHARS = Pt(32)
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}

_STYLES = {
    # name: (font, size, bold, alignment, first-line indent, outline level)
    "公文标题": (TITLE_FONT, TITLE_SIZE, False, WD_ALIGN_PARAGRAPH.CENTER, None, None),
    "公文一级标题": (HEI_FONT, BODY_SIZE, False, WD_ALIGN_PARAGRAPH.JUSTIFY, TWO_CHARS, 0),
    "公文二级标题": (KAI_FONT, BODY_SIZE, False, WD_ALIGN_PARAGRAPH.JUSTIFY, TWO_CHARS, 1),
    "公文三级标题": (BODY_FONT, BODY_SIZE, True, WD_ALIGN_PARAGRAPH.JUSTIFY, TWO_CHARS, 2),
    "公文主送": (BODY_FONT, BODY_SIZE, False, WD_ALIGN_PARAGRAPH.LEFT, None, None),
    "公文落款": (BODY_FONT, BODY_SIZE, False, WD_ALIGN_PARAGRAPH.RIGHT, None, None),
    "公文表格": (BODY_FONT, TABLE_SIZE, False, WD_ALIGN_PARAGRAPH.LEFT, None, None),
}
_HEADING_STYLES = {1: "公文一级标题", 2: "公文二级标题", 3: "公文三级标题"}


def _set_fonts(element: object, east_asian: str) -> None:
    """Name the Chinese font in w:eastAsia (what Word uses for CJK) and Latin text in TNR."""
    rpr = element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:cs"), LATIN_FONT)


def _exact_lines(style: ParagraphStyle, pitch: Pt | None = LINE_PITCH) -> None:
    fmt = style.paragraph_format
    if pitch is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = pitch
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _setup_styles(doc: DocxDocument) -> None:
    normal = doc.styles["Normal"]
    assert isinstance(normal, ParagraphStyle)
    normal.font.size = BODY_SIZE
    normal.font.color.rgb = RGBColor(0, 0, 0)
    _set_fonts(normal.element, BODY_FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    _exact_lines(normal)
    normal.paragraph_format.first_line_indent = TWO_CHARS
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    normal.paragraph_format.widow_control = False
    for name, (font, size, bold, align, indent, outline) in _STYLES.items():
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        assert isinstance(style, ParagraphStyle)
        style.base_style = normal
        style.quick_style = True
        style.font.size = size
        style.font.bold = bold
        _set_fonts(style.element, font)
        style.paragraph_format.alignment = align
        style.paragraph_format.first_line_indent = indent if indent is not None else Pt(0)
        if name == "公文表格":
            _exact_lines(style, None)
        elif name == "公文标题":
            _exact_lines(style, Pt(35))
        if outline is not None:
            level = OxmlElement("w:outlineLvl")
            level.set(qn("w:val"), str(outline))
            style.element.get_or_add_pPr().append(level)


def _declare_fallbacks(doc: DocxDocument) -> None:
    """Add our fonts to the font table with a fallback name and the GB2312 character set."""
    part = doc.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE)
    table = parse_xml(part.blob)
    for name, alternative in FALLBACKS.items():
        table.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}">'
                f'<w:altName w:val="{alternative}"/><w:charset w:val="86"/>'
                '<w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>'
            )
        )
    # python-docx keeps parts it does not model as bytes; this one is rewritten whole.
    part._blob = serialize_part_xml(table)


def _page_number(paragraph: DocxParagraph) -> None:
    """Write "— N —" with N a PAGE field, so Word numbers the pages as the office edits."""

    def run(text: str | None = None) -> object:
        r = paragraph.add_run(text)
        r.font.size = PAGE_NUMBER_SIZE
        _set_fonts(r._element, PAGE_NUMBER_FONT)
        return r

    run("— ")
    for kind in ("begin", None, "separate", "end"):
        r = run()
        if kind is None:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = " PAGE "
            r._element.append(instr)  # type: ignore[attr-defined]
            continue
        field = OxmlElement("w:fldChar")
        field.set(qn("w:fldCharType"), kind)
        r._element.append(field)  # type: ignore[attr-defined]
        if kind == "separate":
            text = OxmlElement("w:t")
            text.text = "1"
            r._element.append(text)  # type: ignore[attr-defined]
    run(" —")


def _setup_page(doc: DocxDocument) -> None:
    section = doc.sections[0]
    section.page_width = Mm(210)
    section.page_height = Mm(297)
    section.top_margin = MARGINS["top"]
    section.bottom_margin = MARGINS["bottom"]
    section.left_margin = MARGINS["left"]
    section.right_margin = MARGINS["right"]
    # The page number sits 7 mm below the type area.
    section.footer_distance = Mm(22)
    section.header_distance = Mm(15)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is not None:
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(int(LINE_PITCH.pt * 20)))
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align, side in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left"),
    ):
        paragraph = footer.paragraphs[0]
        paragraph.style = doc.styles["Footer"]
        paragraph.paragraph_format.alignment = align
        paragraph.paragraph_format.first_line_indent = Pt(0)
        setattr(paragraph.paragraph_format, f"{side}_indent", Pt(14))
        _page_number(paragraph)


def _table(doc: DocxDocument, block: Table) -> None:
    table = doc.add_table(rows=1 + len(block.rows), cols=len(block.headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, values in enumerate((block.headers, *block.rows)):
        row = table.rows[r]
        if r == 0:
            # Repeat the header row on every page the table runs onto.
            header = OxmlElement("w:tblHeader")
            row._tr.get_or_add_trPr().append(header)
        for c, value in enumerate(values):
            paragraph = row.cells[c].paragraphs[0]
            paragraph.style = doc.styles["公文表格"]
            run = paragraph.add_run(value)
            run.bold = r == 0
    # A blank line after the table, as the body pitch resumes.
    doc.add_paragraph()


def official_docx(document: OfficialDocument) -> bytes:
    """The document as a .docx file for the office to edit."""
    doc = Document()
    _setup_styles(doc)
    _declare_fallbacks(doc)
    _setup_page(doc)
    props = doc.core_properties
    props.title = document.title
    props.author = document.issuer
    props.language = "zh-CN"
    body = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    body.style = doc.styles["公文标题"]
    body.add_run(document.title)
    doc.add_paragraph()
    if document.addressee:
        doc.add_paragraph(f"{document.addressee}：", style="公文主送")
    for block in document.blocks:
        if isinstance(block, Heading):
            doc.add_paragraph(block.text, style=_HEADING_STYLES.get(block.level, "公文三级标题"))
        elif isinstance(block, Paragraph):
            p = doc.add_paragraph(block.text)
            if not block.indent:
                p.paragraph_format.first_line_indent = Pt(0)
        elif isinstance(block, Placeholder):
            run = doc.add_paragraph().add_run(block.text)
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        else:
            _table(doc, block)
    doc.add_paragraph()
    doc.add_paragraph()
    # 发文机关署名 and 成文日期, the date four characters in from the right edge.
    issuer = doc.add_paragraph(document.issuer, style="公文落款")
    issuer.paragraph_format.right_indent = Pt(64)
    issued = doc.add_paragraph(document.issued_text, style="公文落款")
    issued.paragraph_format.right_indent = Pt(64)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
