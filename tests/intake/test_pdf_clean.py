"""Uploaded PDFs are rewritten without anything that could name their author."""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from collections.abc import Callable

import pikepdf
import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from pikepdf import Array, Dictionary, Name, String
from PIL import Image
from sqlmodel import Session, select

from app.core.errors import Unsupported
from app.intake.uploads import clean_upload
from app.models import Attachment, Submission
from tests.factories import one_page_pdf, post_form

TEXT = "The playground wall is broken"
MARK = re.compile(r"MARK-[A-Z]+")
# A Chinese marker as WPS writes the Windows account name: UTF-16 in the info dictionary.
ACCOUNT = "张老师的电脑"
MARKERS = {
    "MARK-AUTHOR",
    "MARK-CREATOR",
    "MARK-PRODUCER",
    "MARK-XMP",
    "MARK-ATTACHED",
    "MARK-OPENJS",
    "MARK-NAMEDJS",
    "MARK-PAGEJS",
    "MARK-LINK",
    "MARK-NOTE",
    "MARK-PIECE",
    "MARK-PAGEXMP",
    "MARK-IMAGEXMP",
    "MARK-EXIF",
    "MARK-CAMERA",
    "MARK-DOCID",
}
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>MARK-XMP {tag}</dc:creator>'
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def phone_jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    """A phone camera's JPEG: maker, description and GPS in its EXIF."""
    exif = Image.Exif()
    exif[0x010E] = "MARK-EXIF description"  # ImageDescription
    exif[0x010F] = "MARK-CAMERA"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 20.0), 3: "E", 4: (116.0, 23.0, 29.0)}  # GPS
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _finish(pdf: pikepdf.Pdf) -> bytes:
    """Add what office programs and viewers leave in a PDF besides the page content."""
    pdf.docinfo["/Author"] = f"{ACCOUNT} MARK-AUTHOR"
    pdf.docinfo["/Creator"] = "WPS 文字 MARK-CREATOR"
    pdf.docinfo["/Producer"] = "MARK-PRODUCER"
    pdf.docinfo["/CreationDate"] = "D:20261207211400+08'00'"
    pdf.Root.Metadata = pdf.make_stream(
        XMP.format(tag="doc").encode(), Type=Name.Metadata, Subtype=Name.XML
    )
    pdf.attachments["原稿 MARK-ATTACHED.docx"] = pikepdf.AttachedFileSpec(
        pdf, b"MARK-ATTACHED contents", filename="原稿 MARK-ATTACHED.docx"
    )
    pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=String("app.alert('MARK-OPENJS')"))
    names = pdf.Root.Names
    names.JavaScript = Dictionary(
        Names=Array(
            [String("init"), Dictionary(S=Name.JavaScript, JS=String("var a='MARK-NAMEDJS'"))]
        )
    )
    page = pdf.pages[0].obj
    page.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=String("MARK-PAGEJS")))
    page.PieceInfo = Dictionary(Word=Dictionary(Private=String("MARK-PIECE")))
    page.Metadata = pdf.make_stream(
        XMP.format(tag="MARK-PAGEXMP").encode(), Type=Name.Metadata, Subtype=Name.XML
    )
    for image in page.Resources.XObject.values():
        image.Metadata = pdf.make_stream(XMP.format(tag="MARK-IMAGEXMP").encode())
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([10, 10, 100, 30]),
        A=Dictionary(S=Name.URI, URI=String("https://school.example/MARK-LINK")),
    )
    note = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Text,
        Rect=Array([10, 40, 30, 60]),
        T=String("MARK-NOTE"),
        Contents=String("check this"),
        M=String("D:20261207211400+08'00'"),
    )
    page.Annots = Array([pdf.make_indirect(link), pdf.make_indirect(note)])
    pdf.trailer.ID = Array([String("MARK-DOCID-00000"), String("MARK-DOCID-00000")])
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def office_pdf() -> bytes:
    """As Word or WPS export a letter: text, a pasted phone photo, and all the extras."""
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=14)
    doc.cell(text=TEXT)
    doc.image(io.BytesIO(phone_jpeg()), x=10, y=30, w=80)
    doc.set_creation_date(datetime.datetime(2026, 12, 7, 21, 14, tzinfo=datetime.UTC))
    return _finish(pikepdf.open(io.BytesIO(bytes(doc.output()))))


def scanner_pdf() -> bytes:
    """As a phone scanner app saves a page: the camera's JPEG as the whole page, plus a line
    of recognised text."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    photo = pikepdf.Stream(pdf, b"")
    photo.write(phone_jpeg((600, 800)), filter=Name.DCTDecode)
    photo.Type, photo.Subtype, photo.ColorSpace = Name.XObject, Name.Image, Name.DeviceRGB
    photo.Width, photo.Height, photo.BitsPerComponent = 600, 800, 8
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    page = pdf.pages[0]
    page.Resources = Dictionary(
        XObject=Dictionary(Scan=pdf.make_indirect(photo)), Font=Dictionary(F1=font)
    )
    page.obj.Contents = pdf.make_stream(
        f"q 595 0 0 842 0 0 cm /Scan Do Q BT /F1 12 Tf 40 40 Td ({TEXT}) Tj ET".encode()
    )
    return _finish(pdf)


def markers_in(data: bytes) -> set[str]:
    """Every marker in the file's bytes or, once decoded, in any of its objects."""
    found = set(MARK.findall(data.decode("latin-1")))
    found |= {"MARK-AUTHOR"} if ACCOUNT.encode("utf-16-be") in data else set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            text = repr(obj)
            if isinstance(obj, pikepdf.Stream):
                text += obj.read_raw_bytes().decode("latin-1")
                if obj.get("/Subtype") != Name.Image:
                    text += obj.read_bytes().decode("latin-1")
            found |= set(MARK.findall(text))
            found |= {"MARK-AUTHOR"} if ACCOUNT in text else set()
        found |= set(MARK.findall(repr(pdf.trailer)))
    return found


def page_text(data: bytes) -> str:
    """The text the first page draws (its Tj operands)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return "".join(
            bytes(op.operands[0]).decode("latin-1")
            for op in pikepdf.parse_content_stream(pdf.pages[0])
            if isinstance(op, pikepdf.ContentStreamInstruction)
            and op.operator == pikepdf.Operator("Tj")
        )


def clean(data: bytes) -> bytes:
    return clean_upload(
        filename="意见.pdf", data=data, index=1, anonymous=True, max_bytes=10 << 20
    ).data


@pytest.mark.parametrize("make", [office_pdf, scanner_pdf], ids=["office", "scanner"])
def test_no_marker_survives_and_the_page_does(make: Callable[[], bytes]) -> None:
    original = make()
    assert markers_in(original) == MARKERS  # each place really holds its marker
    cleaned = clean(original)
    assert markers_in(cleaned) == set()
    assert TEXT in page_text(cleaned)
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}
        assert not pdf.attachments and "/Annots" not in pdf.pages[0].obj
        (image,) = pdf.pages[0].get_images().values()
        photo = Image.open(io.BytesIO(image.read_raw_bytes()))
        # Re-encoded by Pillow: a plain JPEG with no EXIF (no GPS, no camera) left.
        assert photo.format == "JPEG" and not photo.getexif() and "exif" not in photo.info
        assert image.Filter == Name.DCTDecode and [image.Width, image.Height] == list(photo.size)


def test_form_stores_and_hashes_only_the_cleaned_pdf(
    client: TestClient, demo: None, session: Session
) -> None:
    original = office_pdf()
    r = post_form(client, text="见附件", files=[("张三的投诉.pdf", "application/pdf", original)])
    assert r.status_code == 200, r.text
    att = session.exec(select(Attachment)).one()
    assert att.filename == "附件1.pdf" and att.content_type == "application/pdf"
    assert markers_in(att.data) == set() and TEXT in page_text(att.data)
    assert att.sha256 == hashlib.sha256(att.data).hexdigest()
    assert att.sha256 != hashlib.sha256(original).hexdigest()
    assert att.size == len(att.data) != len(original)


def _encrypted(user: str) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(one_page_pdf(TEXT))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user=user))
    return out.getvalue()


def _pages(count: int) -> bytes:
    out = io.BytesIO()
    with pikepdf.new() as pdf:
        for _ in range(count):
            pdf.add_blank_page()
        pdf.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_encrypted(user="secret"), "密码"),
        (_pages(201), "最多 200 页"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "已损坏"),
        (b"%PDF-1.7\n%%EOF\n", "已损坏"),
        (one_page_pdf()[:-200], "不完整"),
    ],
    ids=["password", "201-pages", "no-pages", "empty", "truncated"],
)
def test_a_pdf_that_cannot_be_cleaned_is_refused_in_chinese(data: bytes, message: str) -> None:
    with pytest.raises(Unsupported, match=message):
        clean(data)


def test_refused_pdf_shows_the_form_again_with_the_reason(
    client: TestClient, demo: None, session: Session
) -> None:
    r = post_form(client, text="见附件", files=[("a.pdf", "application/pdf", _encrypted("pw"))])
    assert r.status_code == 415 and "打开密码" in r.text and "见附件" in r.text
    assert session.exec(select(Submission)).all() == []


def test_a_pdf_only_restricted_from_copying_is_cleaned_and_opens_freely() -> None:
    cleaned = clean(_encrypted(user=""))
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert not pdf.is_encrypted
    assert TEXT in page_text(cleaned)
