"""Check uploaded files by their content and strip what could identify the sender."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

from PIL import ImageOps
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.core.errors import TooLarge, Unsupported
from app.intake.images import decode_image
from app.intake.pdfclean import clean_pdf

# Decoding is CPU and memory bound: more decodes at once than cores only add memory (each
# may hold a 2560-pixel image and its copies) while every one of them gets slower.
_DECODES = threading.BoundedSemaphore(os.cpu_count() or 1)
_UNSUPPORTED = "只能上传照片（JPG、PNG、WebP、GIF）或 PDF 文件。"


@dataclass(frozen=True)
class CleanFile:
    filename: str
    content_type: str
    data: bytes
    sha256: str


def sniff(data: bytes) -> str | None:
    """The type a file really is, from its first bytes; None when not one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _reencode(data: bytes) -> tuple[bytes, str]:
    # Re-encoding from pixels drops EXIF, GPS, XMP and comments. Orientation is applied
    # after scaling down (the bounding box is square), so it turns the small copy only.
    pic = ImageOps.exif_transpose(decode_image(data))
    out = io.BytesIO()
    if pic.mode in ("RGBA", "LA") or (pic.mode == "P" and "transparency" in pic.info):
        pic.convert("RGBA").save(out, format="PNG", optimize=False)
        return out.getvalue(), "image/png"
    pic.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue(), "image/jpeg"


def _safe_name(filename: str, index: int, extension: str, anonymous: bool) -> str:
    # A file name such as 张三的照片.jpg names the sender, so anonymous files get a neutral one.
    if anonymous:
        return f"附件{index}{extension}"
    stem = PurePath(filename.replace("\\", "/")).stem
    stem = "".join(c for c in stem if unicodedata.category(c)[0] not in "CZ" or c == " ")
    return f"{stem.strip()[:80] or f'附件{index}'}{extension}"


def clean_upload(
    *, filename: str, data: bytes, index: int, anonymous: bool, max_bytes: int
) -> CleanFile:
    """Accept a photo or PDF checked by content; rewrite either without its metadata."""
    if len(data) > max_bytes:
        raise TooLarge(f"单个文件不能超过 {max_bytes // (1024 * 1024)} MB。")
    kind = sniff(data)
    if kind is None:
        raise Unsupported(_UNSUPPORTED)
    with _DECODES:
        if kind == "application/pdf":
            body, content_type, ext = clean_pdf(data), kind, ".pdf"
        else:
            body, content_type = _reencode(data)
            ext = ".png" if content_type == "image/png" else ".jpg"
    return CleanFile(
        filename=_safe_name(filename, index, ext, anonymous),
        content_type=content_type,
        data=body,
        sha256=hashlib.sha256(body).hexdigest(),
    )


async def clean_files(
    uploads: list[UploadFile], *, anonymous: bool, max_bytes: int
) -> list[CleanFile]:
    """Read each uploaded file (at most max_bytes) and clean it off the event loop."""
    files = []
    for index, upload in enumerate(uploads, start=1):
        if upload.size is not None and upload.size > max_bytes:
            raise TooLarge(f"单个文件不能超过 {max_bytes // (1024 * 1024)} MB。")
        data = await upload.read(max_bytes + 1)
        files.append(
            await run_in_threadpool(
                clean_upload,
                filename=upload.filename or "",
                data=data,
                index=index,
                anonymous=anonymous,
                max_bytes=max_bytes,
            )
        )
    return files
