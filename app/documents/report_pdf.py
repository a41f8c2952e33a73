"""Official documents (reports to the bureau) as A4 PDF for printing.

The same content as the Word draft (``docx``), set with the embedded Noto CJK fonts: body in
Noto Serif CJK SC (the fallback for 仿宋), headings in Noto Sans CJK SC Bold (for 黑体), on the
GB/T 9704 type area (156 × 225 mm, 22 lines of 三号 text a page).
"""

from __future__ import annotations

from app.documents._layout import PAGE_H, PARAGRAPH_INDENT, RULE, Document, Style
from app.documents.fonts import CjkFonts, find_cjk_fonts
from app.documents.official import Heading, OfficialDocument, Paragraph, Placeholder, Table

__all__ = ["official_pdf"]

TOP = 37.0
BOTTOM = 35.0
# fpdf2 pages share one side margin; 27 mm each side keeps the standard 156 mm line
# (GB/T 9704: 28 mm left, 26 mm right).
SIDE = 27.0
_LINE = 28.95 / 16  # the fixed 28.95 pt line of 三号 text

_TITLE = Style(22, bold=True, leading=35 / 22)
_HEADING = Style(16, bold=True, leading=_LINE)
_BODY = Style(16, leading=_LINE)
_TABLE = Style(11, leading=1.5)
_TABLE_HEAD = Style(11, bold=True, leading=1.5)
_PAD = 1.5  # mm of space inside a table cell


def _table(doc: Document, block: Table) -> None:
    width = doc.content_width
    # Each column gets at least a share of the line by its widest cell, headers included.
    widest = [
        max(
            doc.text_width(block.headers[i], _TABLE_HEAD),
            *(doc.text_width(row[i], _TABLE) for row in block.rows),
        )
        + 2 * _PAD
        + 0.5
        for i in range(len(block.headers))
    ]
    total = sum(widest)
    columns = [width * w / total for w in widest] if total > width else widest
    columns[-1] += width - sum(columns) if total <= width else 0.0
    for r, values in enumerate((block.headers, *block.rows)):
        style = _TABLE_HEAD if r == 0 else _TABLE
        cells = [doc.lines(v, style, columns[i] - 2 * _PAD) for i, v in enumerate(values)]
        height = max(len(lines) for lines in cells) * style.line_height + 2 * _PAD
        doc.ensure_room(height)
        top = doc.y
        x = doc.margin
        for i, lines in enumerate(cells):
            doc.frame(x, top, columns[i], height, RULE)
            doc.y = top + _PAD
            doc.text("\n".join(lines), style, x=x + _PAD, width=columns[i] - 2 * _PAD)
            x += columns[i]
        doc.y = top + height
    doc.y = doc.y + _BODY.line_height * 0.5


def official_pdf(document: OfficialDocument, *, fonts: CjkFonts | None = None) -> bytes:
    """The document as a printable PDF."""
    doc = Document(
        fonts or find_cjk_fonts(),
        title=document.title,
        author=document.issuer,
        margin=SIDE,
        page_numbers=True,
    )
    doc.pdf.set_margins(SIDE, TOP, SIDE)
    doc.bottom = PAGE_H - BOTTOM
    doc.add_page()
    doc.text(document.title, _TITLE, align="C", balanced=True, space_after=_BODY.line_height)
    if document.addressee:
        doc.text(f"{document.addressee}：", _BODY)
    for block in document.blocks:
        if isinstance(block, Heading):
            style = _HEADING if block.level == 1 else _BODY
            doc.text(PARAGRAPH_INDENT + block.text, style)
        elif isinstance(block, Paragraph):
            doc.text((PARAGRAPH_INDENT if block.indent else "") + block.text.strip(), _BODY)
        elif isinstance(block, Placeholder):
            doc.text(PARAGRAPH_INDENT + block.text, _BODY)
        else:
            _table(doc, block)
    doc.y = doc.y + 2 * _BODY.line_height
    four_chars = 4 * _BODY.size * 25.4 / 72
    box = doc.content_width - four_chars
    doc.ensure_room(2 * _BODY.line_height)
    doc.text(document.issuer, _BODY, align="R", width=box)
    doc.text(document.issued_text, _BODY, align="R", width=box)
    return doc.output()
