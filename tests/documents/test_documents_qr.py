from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from app.documents.qr import QUIET_ZONE, qr_matrix, qr_png, qr_svg

URLS = [
    "https://yijian.example.cn/f/gx1z",
    "https://yijian.example.cn/e/gx1z?code=K7PMQ2XD9HTA&lang=zh",
    "https://yijian.example.cn/f/%E6%95%85%E5%8E%BF",
]


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_exact_url(
    url: str, tmp_path: Path, decode_png: Callable[[Path], list[str]]
) -> None:
    image = tmp_path / "qr.png"
    image.write_bytes(qr_png(url))
    assert decode_png(image) == [url]


def test_png_box_size_scales_image() -> None:
    from io import BytesIO

    from PIL import Image

    small = Image.open(BytesIO(qr_png(URLS[0], box_size=4)))
    large = Image.open(BytesIO(qr_png(URLS[0], box_size=8)))
    assert large.size == (small.size[0] * 2, small.size[1] * 2)


def test_svg_is_self_contained() -> None:
    svg = qr_svg(URLS[0])
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    # Nothing fetched from elsewhere: no links, images, scripts or styles.
    assert "href" not in svg
    assert not [
        element
        for element in root.iter()
        if element.tag.split("}")[-1] in {"image", "script", "style", "use"}
    ]


def test_matrix_has_quiet_zone() -> None:
    matrix = qr_matrix(URLS[0])
    assert len(matrix) == len(matrix[0])
    assert not any(matrix[0]) and not any(matrix[-1])
    assert not any(row[QUIET_ZONE - 1] for row in matrix)
    assert matrix[QUIET_ZONE][QUIET_ZONE]  # corner of the finder pattern


def test_empty_url_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        qr_png("")
