"""Images are refused by their header when too large, and decoded small and few at a time."""

from __future__ import annotations

import io
import os
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from app.core.errors import TooLarge
from app.intake import images, uploads
from app.models import Submission
from tests.factories import post_form


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb() -> bytes:
    """A valid 7,745×7,745 RGBA PNG of one colour: 233 KB that decodes to 240 MB.

    Compressed five rows at a time, so making it costs no more memory than five rows."""
    side = 7745
    rows = (b"\x00" + b"\x00" * (side * 4)) * 5  # filter byte, transparent black pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(rows) for _ in range(side // 5)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_bomb()


def phone_photo(size: tuple[int, int] = (4032, 3024)) -> bytes:
    """A 12 MP phone photo held sideways (EXIF orientation 6) with its GPS position."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 20.0), 3: "E", 4: (116.0, 23.0, 29.0)}
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, format="JPEG", exif=exif, quality=70)
    return out.getvalue()


def clean(data: bytes) -> uploads.CleanFile:
    return uploads.clean_upload(
        filename="photo", data=data, index=1, anonymous=True, max_bytes=10 << 20
    )


def test_png_bomb_is_refused_from_its_header(bomb: bytes) -> None:
    assert len(bomb) < 300_000 and Image.open(io.BytesIO(bomb)).size == (7745, 7745)
    # The refusal names the pixel limit: it comes from the size in the header, the only
    # check made before decoding (a decoding failure says 已损坏 instead).
    with pytest.raises(TooLarge, match="5000 万像素"):
        clean(bomb)


def test_png_bomb_on_the_form_is_a_413_in_either_language(
    client: TestClient, demo: None, session: Session, bomb: bytes
) -> None:
    r = post_form(client, text="见图", files=[("a.png", "image/png", bomb)])
    assert r.status_code == 413 and "图片像素过大" in r.text and "见图" in r.text
    client.headers["Accept-Language"] = "en-US,en;q=0.9"
    r = post_form(client, text="见图", files=[("a.png", "image/png", bomb)])
    assert r.status_code == 413 and "too many pixels" in r.text
    assert session.exec(select(Submission)).all() == []


def test_twelve_megapixel_photo_is_scaled_turned_and_stripped() -> None:
    cleaned = clean(phone_photo())
    assert cleaned.content_type == "image/jpeg"
    photo = Image.open(io.BytesIO(cleaned.data))
    assert photo.size == (1920, 2560)  # upright, at most 2560 on the long side
    assert not photo.getexif() and b"Exif" not in cleaned.data


def test_decodes_at_once_are_bounded_by_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    lock, running, peak = threading.Lock(), [0], [0]
    decode = images.decode_image

    def counting(data: bytes) -> Image.Image:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return decode(data)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(uploads, "decode_image", counting)
    photo = phone_photo((2000, 1500))
    cores = os.cpu_count() or 1
    with ThreadPoolExecutor(cores * 4) as pool:
        results = list(pool.map(clean, [photo] * cores * 4))
    assert all(r.content_type == "image/jpeg" for r in results)
    assert 1 <= peak[0] <= cores
