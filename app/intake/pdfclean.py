"""Rewrite an uploaded PDF as its pages alone: no metadata, attachments, scripts or actions."""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream

from app.core.errors import Unsupported
from app.intake.images import decode_image

MAX_PAGES = 200
# What a page needs to be drawn. The rest (/Annots, /AA, /Metadata, /PieceInfo, /Thumb,
# beads, structure links) is left behind, and so is everything the catalog holds besides
# the pages: the info dictionary, XMP, /Names (scripts, embedded files), /OpenAction,
# /AcroForm (signatures with the signer's certificate), outlines, the original /ID.
_PAGE_KEYS = frozenset(
    {
        "/Type",
        "/MediaBox",
        "/CropBox",
        "/BleedBox",
        "/TrimBox",
        "/ArtBox",
        "/Contents",
        "/Resources",
        "/Rotate",
        "/Group",
        "/UserUnit",
    }
)
# Resources (images, form XObjects, marked-content properties) may carry their own XMP,
# an editor's private data, its dates and actions.
_RESOURCE_KEYS = ("/Metadata", "/PieceInfo", "/LastModified", "/AA")
_JPEG_COMPONENTS = {"L": Name.DeviceGray, "RGB": Name.DeviceRGB, "CMYK": Name.DeviceCMYK}
_BROKEN = "PDF 文件已损坏或无法读取，请重新导出后再上传。"
_ODD_IMAGE = "PDF 中有无法处理的图片格式，请用“打印为 PDF”重新导出后再上传。"
_ENCRYPTED = "PDF 文件设置了打开密码，无法检查其内容，请去掉密码后再上传。"


def clean_pdf(data: bytes) -> bytes:
    """A new PDF holding only what its pages show; refused when it cannot be read."""
    if b"%%EOF" not in data[-2048:]:
        raise Unsupported("PDF 文件不完整，请重新导出后再上传。")
    try:
        with Pdf.open(io.BytesIO(data)) as source, Pdf.new() as clean:
            if not source.pages:
                raise Unsupported(_BROKEN)
            if len(source.pages) > MAX_PAGES:
                raise Unsupported(f"PDF 最多 {MAX_PAGES} 页，请只上传相关的页面。")
            # Stamps, filled-in fields and highlights stay visible as part of the page;
            # their actions, authors and dates go with /Annots.
            source.generate_appearance_streams()
            source.flatten_annotations(mode="all")
            for page in source.pages:
                for key in set(page.obj.keys()) - _PAGE_KEYS:
                    del page.obj[key]
            clean.pages.extend(source.pages)
            for obj in clean.objects:
                if isinstance(obj, (Dictionary, Stream)):
                    for key in _RESOURCE_KEYS:
                        if key in obj:
                            del obj[key]
                if isinstance(obj, Stream) and obj.get("/Subtype") == Name.Image:
                    _reencode_image(obj)
            out = io.BytesIO()
            # Streams are copied as they are: decoding them to re-compress would let a
            # small flate bomb cost gigabytes. The new /ID comes from the content.
            clean.save(
                out,
                min_version=source.pdf_version,
                deterministic_id=True,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
            )
    except pikepdf.PasswordError as exc:
        raise Unsupported(_ENCRYPTED) from exc
    except (pikepdf.PikepdfError, OSError, ValueError, TypeError, KeyError) as exc:
        raise Unsupported(_BROKEN) from exc
    return out.getvalue()


def _reencode_image(image: Stream) -> None:
    # A scanner's or phone's JPEG keeps its EXIF (camera, GPS, time) inside the stream.
    filters = image.get("/Filter")
    chain = list(filters) if isinstance(filters, Array) else [filters]
    if chain[-1] not in (Name.DCTDecode, Name.JPXDecode):
        return  # other encodings hold pixels only; their dictionary was cleaned above
    if len(chain) > 1:
        # A JPEG wrapped in another filter is rare, and unwrapping it (flate) could cost
        # gigabytes before the JPEG header is even seen.
        raise Unsupported(_ODD_IMAGE)
    pic = decode_image(image.read_raw_bytes())
    if chain[-1] == Name.JPXDecode or pic.mode not in _JPEG_COMPONENTS:
        # JPEG 2000 may carry its colour space in the codestream only: name it here.
        pic = pic.convert("L" if pic.mode in ("1", "L", "LA", "I", "I;16") else "RGB")
        image.ColorSpace = _JPEG_COMPONENTS[pic.mode]
        for key in ("/Decode", "/SMaskInData"):
            if key in image:
                del image[key]
    out = io.BytesIO()
    pic.save(out, format="JPEG", quality=85)
    image.write(out.getvalue(), filter=Name.DCTDecode)
    # An image is drawn into the unit square whatever its sample size, so a smaller one
    # fills the same place on the page.
    image.Width, image.Height, image.BitsPerComponent = pic.width, pic.height, 8
