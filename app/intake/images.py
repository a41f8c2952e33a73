"""Decode an uploaded image without letting its size decide how much memory it costs."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from app.core.errors import TooLarge, Unsupported

# Phone cameras store 12 MP (4032×3024) by default and at most 50 MP (8160×6120) in their
# high-resolution mode; 200 MP sensors bin down to one of those. Anything larger is not a
# photo of a wall or a letter, and a PNG of 50 MP already costs 200 MB to decode.
MAX_PIXELS = 50_000_000
MAX_SIDE = 2560
TOO_MANY_PIXELS = "图片像素过大（最多 5000 万像素），请缩小后再上传。"
UNREADABLE = "图片文件已损坏或无法识别，请换一张再试。"


def decode_image(data: bytes, *, max_side: int = MAX_SIDE) -> Image.Image:
    """Pixels of an image scaled to fit max_side, refused by its header when too large."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
            # Image.open reads only the header: the refusal below costs no decoding.
            if img.width * img.height > MAX_PIXELS:
                raise TooLarge(TOO_MANY_PIXELS)
            # A JPEG decodes at 1/2, 1/4 or 1/8 scale straight from its DCT blocks, so a
            # 50 MP photo never exists in memory at full size.
            img.draft(None, (max_side, max_side))
            img.thumbnail((max_side, max_side))
            img.load()  # thumbnail leaves an image that already fits undecoded
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
        ) as exc:
            raise Unsupported(UNREADABLE) from exc
    return img
