"""QR codes for campaign URLs, as PNG, SVG or a module matrix for vector drawing."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg
from PIL import Image

# Level M survives a smudge or a fold (about 15 % damage) while keeping the code small enough
# for long URLs; printed forms are handled roughly, so nothing lower.
_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
# The quiet zone the QR specification requires; scanners fail more often with less.
QUIET_ZONE = 4


def _build(url: str, box_size: int = 10) -> qrcode.QRCode:
    if not url:
        raise ValueError("cannot encode an empty URL")
    code = qrcode.QRCode(error_correction=_ERROR_CORRECTION, box_size=box_size, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_image(url: str, *, box_size: int = 10) -> Image.Image:
    """Return ``url`` as a black-on-white Pillow image; each module ``box_size`` pixels wide."""
    image = _build(url, box_size).make_image(fill_color="black", back_color="white")
    pil: Image.Image = image.get_image()
    return pil.convert("RGB")


def qr_png(url: str, *, box_size: int = 10) -> bytes:
    """Return a black-on-white PNG of ``url``; each module is ``box_size`` pixels wide."""
    buffer = io.BytesIO()
    qr_image(url, box_size=box_size).save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> str:
    """Return a self-contained SVG document of ``url``.

    The fill variant paints a white background so the code stays scannable on dark pages.
    """
    image = _build(url).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    svg: str = image.to_string(encoding="unicode")
    return svg


def qr_matrix(url: str) -> list[list[bool]]:
    """Return the modules of ``url`` (True = dark), quiet zone included.

    PDFs draw these as vector rectangles, which print sharply at any size.
    """
    matrix: list[list[bool]] = _build(url).get_matrix()
    return matrix
