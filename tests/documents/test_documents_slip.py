"""The receipt slip image: a PNG a phone can save, its QR code the lookup page."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PIL import Image

from app.documents.fonts import CjkFonts
from app.documents.slip import receipt_slip_png

LOOKUP = "https://yijian.jiaoyu.example-county.gov.cn/r"


def test_slip_with_the_longest_names(
    fonts: CjkFonts, tmp_path: Path, decode_png: Callable[[Path], list[str]]
) -> None:
    data = receipt_slip_png(
        code="1234 5678 9012 3456",
        unit_name="某某省某某市某某县第二实验小学教育集团（北校区）",
        day=date(2026, 12, 7),
        lookup_url=LOOKUP,
        fonts=fonts,
    )
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width == 1080 and image.height < 1600
    # Small enough to save over a slow mobile connection.
    assert len(data) < 120_000
    path = tmp_path / "slip.png"
    path.write_bytes(data)
    assert decode_png(path) == [LOOKUP]
