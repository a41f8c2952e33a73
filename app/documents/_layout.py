"""Layout helpers shared by every PDF: CJK line breaking, flowing text, vector QR codes.

All lengths are millimetres on A4 portrait pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from fpdf import FPDF
from fpdf.drawing import PaintedPath
from fpdf.enums import Align, PathPaintRule, XPos, YPos
from fpdf.fonts import TTFFont

from app.documents.fonts import CjkFonts
from app.documents.qr import qr_matrix

PAGE_W = 210.0
PAGE_H = 297.0
PT = 25.4 / 72  # one typographic point in mm

Colour = tuple[int, int, int]
INK: Colour = (34, 34, 34)
MUTED: Colour = (105, 105, 105)
# The red of Chinese official documents, used sparingly for headings and bands.
ACCENT: Colour = (176, 32, 36)
WHITE: Colour = (255, 255, 255)
RULE: Colour = (150, 150, 150)

# Chinese typesetting rules (禁则): closing punctuation never starts a line and opening
# punctuation never ends one.
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕”’…—·%,.;:?!)]}")
_NO_LINE_END = frozenset("（《「『【〔“‘([{")
# Two ideographic spaces: the customary first-line indent of a Chinese paragraph.
PARAGRAPH_INDENT = "\u3000\u3000"


def wrap_text(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Break ``text`` into lines no wider than ``width``, character by character.

    Chinese has no spaces to break at, so any character boundary is a break opportunity,
    subject to the punctuation rules above. Explicit newlines start new lines.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        used = 0.0
        for char in paragraph:
            char_width = measure(char)
            if not line or used + char_width <= width:
                line += char
                used += char_width
                continue
            carry = ""
            if len(line) > 1 and (char in _NO_LINE_START or line[-1] in _NO_LINE_END):
                # Pull the last character down so the punctuation keeps its neighbour.
                line, carry = line[:-1], line[-1]
            lines.append(line.rstrip(" "))
            line = (carry + char).lstrip(" ")
            used = measure(line)
        lines.append(line)
    return lines


def chinese_date(value: date) -> str:
    """Format a date the way Chinese documents write it: 2023年9月17日."""
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True)
class Style:
    size: float  # points
    bold: bool = False
    colour: Colour = INK
    leading: float = 1.6  # line height as a multiple of the font size

    @property
    def line_height(self) -> float:
        return self.size * PT * self.leading

    def scaled(self, factor: float) -> Style:
        return replace(self, size=self.size * factor)


class _Pdf(FPDF):
    def __init__(self, page_numbers: bool) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._page_numbers = page_numbers

    def footer(self) -> None:
        if not self._page_numbers:
            return
        self.set_y(-16)
        self.set_font("body", "", 10)
        self.set_text_color(*MUTED)
        # The dash-framed page number of Chinese official documents.
        self.cell(0, 6, f"— {self.page_no()} —", align=Align.C)


class Document:
    """A PDF under construction, with a flowing cursor between the side margins."""

    def __init__(
        self,
        fonts: CjkFonts,
        *,
        title: str,
        author: str,
        margin: float = 20.0,
        page_numbers: bool = False,
    ) -> None:
        pdf = _Pdf(page_numbers)
        pdf.add_font(
            "body", "", str(fonts.regular.path), collection_font_number=fonts.regular.index
        )
        pdf.add_font("heading", "", str(fonts.bold.path), collection_font_number=fonts.bold.index)
        # Page breaks are decided here (see ensure_room) so blocks are never split mid-line.
        pdf.set_auto_page_break(False)
        pdf.set_margins(margin, margin, margin)
        pdf.c_margin = 0
        pdf.set_title(title)
        pdf.set_author(author)
        pdf.set_creator("意见箱 Yijian")
        pdf.set_lang("zh-CN")
        self.pdf = pdf
        self.margin = margin
        # The page number sits inside the bottom margin, so it takes no room from content.
        self.bottom = PAGE_H - margin

    @property
    def y(self) -> float:
        return float(self.pdf.get_y())

    @y.setter
    def y(self, value: float) -> None:
        self.pdf.set_y(value)

    @property
    def content_width(self) -> float:
        return PAGE_W - 2 * self.margin

    def add_page(self) -> None:
        self.pdf.add_page()

    def ensure_room(self, height: float) -> None:
        """Start a new page unless ``height`` more millimetres fit on this one."""
        # The tolerance absorbs float noise when a block was placed to end exactly there.
        if self.y + height > self.bottom + 0.01:
            self.add_page()

    def _use(self, style: Style) -> None:
        self.pdf.set_font("heading" if style.bold else "body", "", style.size)
        self.pdf.set_text_color(*style.colour)

    def lines(self, text: str, style: Style, width: float, *, balanced: bool = False) -> list[str]:
        self._use(style)
        lines = wrap_text(text, width, self.pdf.get_string_width)
        if balanced and len(lines) > 1:
            # Narrow the box as far as the line count allows, so a heading breaks into lines
            # of similar length instead of leaving one or two characters alone.
            narrow = width
            while narrow > 0:
                candidate = wrap_text(text, narrow - style.size * PT, self.pdf.get_string_width)
                if len(candidate) > len(lines):
                    break
                lines, narrow = candidate, narrow - style.size * PT
        return lines

    def text_width(self, text: str, style: Style) -> float:
        self._use(style)
        return float(self.pdf.get_string_width(text))

    def text_height(self, text: str, style: Style, width: float | None = None) -> float:
        lines = self.lines(text, style, width or self.content_width)
        return len(lines) * style.line_height

    def text(
        self,
        text: str,
        style: Style,
        *,
        align: str = "L",
        x: float | None = None,
        width: float | None = None,
        space_after: float = 0.0,
        balanced: bool = False,
    ) -> None:
        """Write wrapped ``text`` at the cursor and move the cursor below it."""
        left = self.margin if x is None else x
        box = self.content_width if width is None else width
        for line in self.lines(text, style, box, balanced=balanced):
            self._line(line, style, left=left, box=box, align=align)
        self.y = self.y + space_after

    def _line(self, line: str, style: Style, *, left: float, box: float, align: str) -> None:
        self.ensure_room(style.line_height)
        self._use(style)  # a page break resets the font in the footer
        self.pdf.set_x(left)
        self.pdf.cell(
            box,
            style.line_height,
            line,
            align=Align.coerce(align),
            new_x=XPos.LEFT,
            new_y=YPos.NEXT,
        )

    def whole_line(
        self,
        text: str,
        style: Style,
        *,
        align: str = "L",
        x: float | None = None,
        width: float | None = None,
    ) -> None:
        """Write ``text`` on one line, never wrapped: the font shrinks until it fits the box.

        For web and mail addresses: a break inside one makes it wrong when typed from paper,
        and a whole line can be selected and copied in one go.
        """
        left = self.margin if x is None else x
        box = self.content_width if width is None else width
        natural = self.text_width(text, style)
        # Widths scale with the font size; the factor keeps rounding from overflowing the box.
        fitted = style if natural <= box else replace(style, size=style.size * box / natural * 0.99)
        self._line(text, fitted, left=left, box=box, align=align)

    def paragraph(self, text: str, style: Style, *, width: float | None = None) -> None:
        """A body paragraph: first line indented by two characters."""
        self.text(
            PARAGRAPH_INDENT + text.strip(),
            style,
            width=width,
            space_after=style.line_height * 0.25,
        )

    def qr(self, url: str, *, x: float, y: float, size: float) -> None:
        """Draw the QR code of ``url`` as vector squares, quiet zone included in ``size``."""
        matrix = qr_matrix(url)
        module = size / len(matrix)
        self.pdf.set_fill_color(*WHITE)
        self.pdf.rect(x, y, size, size, style="F")
        # All dark modules form one filled path, one rectangle per horizontal run: a single
        # fill leaves no anti-aliasing seams between neighbouring squares, which otherwise
        # show as white hairlines on screen and in rasterised prints and can defeat scanners.
        path = PaintedPath()
        path.style.paint_rule = PathPaintRule.FILL_NONZERO
        path.style.fill_color = "#000000"
        for row_index, row in enumerate(matrix):
            column = 0
            while column < len(row):
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < len(row) and row[column]:
                    column += 1
                path.rectangle(
                    x + start * module, y + row_index * module, (column - start) * module, module
                )
        # The path is built here and never touched again, so fpdf2's defensive deep copy
        # (most of the rendering time of a page of forms) is skipped.
        with self.pdf.drawing_context() as context:
            context.add_item(path, clone=False)

    def fill(self, x: float, y: float, w: float, h: float, colour: Colour) -> None:
        self.pdf.set_fill_color(*colour)
        self.pdf.rect(x, y, w, h, style="F")

    def frame(
        self, x: float, y: float, w: float, h: float, colour: Colour = RULE, *, radius: float = 0.0
    ) -> None:
        self.pdf.set_draw_color(*colour)
        self.pdf.set_line_width(0.3)
        self.pdf.rect(x, y, w, h, style="D", round_corners=radius > 0, corner_radius=radius)

    def rule(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        colour: Colour = RULE,
        width: float = 0.3,
        dashed: bool = False,
    ) -> None:
        self.pdf.set_draw_color(*colour)
        self.pdf.set_line_width(width)
        if dashed:
            self.pdf.set_dash_pattern(dash=2.5, gap=1.5)
        self.pdf.line(x1, y1, x2, y2)
        self.pdf.set_dash_pattern()

    def output(self) -> bytes:
        return bytes(self.pdf.output())

    def discard(self) -> None:
        """Close the font files of a layout that will not be output (output closes them)."""
        for font in self.pdf.fonts.values():
            if isinstance(font, TTFFont):
                font.close()
