"""A receipt slip as a PNG image: what a phone saves to its album (WeChat users keep images).

Drawn with Pillow in the same CJK fonts the PDFs embed. The slip holds only what the caller
passes: the code, the unit, a day and the lookup address.
"""

from __future__ import annotations

import io
from datetime import date
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from app.documents._layout import chinese_date, wrap_text
from app.documents.fonts import CjkFonts, FontFace, find_cjk_fonts
from app.documents.qr import qr_image

__all__ = ["receipt_slip_png"]

WIDTH = 1080
_MARGIN = 64
_RED = (176, 32, 36)
_INK = (34, 34, 34)
_MUTED = (90, 90, 90)
_WHITE = (255, 255, 255)
# Pixels per QR module: a short lookup address then makes a code of about 300 px.
_QR_MODULE = 8


# Opening a CJK collection costs more than drawing the whole slip: keep the sizes in use.
@lru_cache(maxsize=32)
def _font(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(face.path), size, index=face.index)


class _Canvas:
    """A tall white page drawn top to bottom, cut to the height used at the end."""

    def __init__(self, fonts: CjkFonts) -> None:
        self.fonts = fonts
        self.image = Image.new("RGB", (WIDTH, 2400), _WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self.y = 0

    def text(
        self,
        text: str,
        size: int,
        *,
        bold: bool = False,
        colour: tuple[int, int, int] = _INK,
        x: int = _MARGIN,
        width: int = WIDTH - 2 * _MARGIN,
        whole: bool = False,
    ) -> None:
        """Wrapped text; ``whole`` keeps it on one line and shrinks it to fit instead."""
        face = self.fonts.bold if bold else self.fonts.regular
        font = _font(face, size)
        if whole and font.getlength(text) > width:
            size = int(size * width / font.getlength(text))
            font = _font(face, size)
        lines = [text] if whole else wrap_text(text, width, font.getlength)
        for line in lines:
            self.draw.text((x, self.y), line, font=font, fill=colour)
            self.y += round(size * 1.5)

    def png(self) -> bytes:
        page = self.image.crop((0, 0, WIDTH, self.y + _MARGIN))
        buffer = io.BytesIO()
        # A few flat colours: a palette keeps the file small for a phone on a slow network.
        page.quantize(colors=16, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG")
        return buffer.getvalue()


def receipt_slip_png(
    *,
    code: str,
    unit_name: str,
    day: date,
    lookup_url: str,
    fonts: CjkFonts | None = None,
) -> bytes:
    """The slip of one receipt: the code, the unit, the day it was sent, how to look it up.

    ``code`` is printed as given (grouped for reading, e.g. ``1234 5678 9012 3456``); the QR
    code holds ``lookup_url``, never the code, so a photo of the QR alone opens nothing.
    """
    canvas = _Canvas(fonts or find_cjk_fonts())
    canvas.draw.rectangle((0, 0, WIDTH, 150), fill=_RED)
    canvas.y = 40
    canvas.text("意见回执单", 60, bold=True, colour=_WHITE)

    canvas.y = 190
    canvas.text("回执码", 36, colour=_MUTED)
    top = canvas.y
    canvas.y += 24
    canvas.text(code, 96, bold=True, x=_MARGIN + 30, width=WIDTH - 2 * _MARGIN - 60, whole=True)
    canvas.draw.rounded_rectangle(
        (_MARGIN, top, WIDTH - _MARGIN, canvas.y + 12), radius=16, outline=_RED, width=4
    )
    canvas.y += 48
    canvas.text(f"单位：{unit_name}", 40)
    canvas.text(f"提交日期：{chinese_date(day)}", 40)

    canvas.y += 32
    canvas.text("怎样查看答复", 40, bold=True)
    steps_top = canvas.y
    qr = qr_image(lookup_url, box_size=_QR_MODULE)
    text_width = WIDTH - 2 * _MARGIN - qr.width - 32
    canvas.text("1. 扫描右侧二维码，或打开网址：", 34, width=text_width)
    canvas.text(lookup_url, 34, bold=True, x=_MARGIN + 34, width=text_width - 34, whole=True)
    canvas.text("2. 输入上面的16位回执码。", 34, width=text_width)
    canvas.text("3. 查看办理进度和答复。", 34, width=text_width)
    # The QR's own white border lines up with the margin rather than the text.
    canvas.image.paste(qr, (WIDTH - _MARGIN - qr.width + 4 * _QR_MODULE, steps_top))
    canvas.y = max(canvas.y, steps_top + qr.height) + 16

    canvas.text(
        "回执码是查看答复的唯一凭证，丢失后无法找回，请妥善保存本图片。"
        "本回执单不含您的姓名和联系方式。",
        30,
        colour=_MUTED,
    )
    return canvas.png()
