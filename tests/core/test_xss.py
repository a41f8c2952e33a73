"""What senders write is shown as text on every admin page, export and the receipt page."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from app.models import Attachment
from tests.factories import insert_submissions, post_form
from tests.helpers import receipt_of, signed_in_admin, soup

CORPUS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}{% raw %}",
    "</textarea><b>bold</b>",
    "\u202egnp.exe",
    "' onmouseover='alert(1)",
    '<a href="javascript:alert(1)">x</a>',
]
PAYLOAD = " ".join(CORPUS)


def assert_inert(html: str, *, scripts: int = 0) -> BeautifulSoup:
    page = soup(html)
    found = page.find_all("script")
    assert all(s.get("src", "").startswith("/static/") for s in found)
    assert len(found) == scripts
    for tag in page.find_all(True):
        assert not any(attr.lower().startswith("on") for attr in tag.attrs), tag
        for attr in ("href", "src", "action"):
            value = str(tag.get(attr, ""))
            assert not value.strip().lower().startswith("javascript:"), tag
    assert page.find("img") is None and page.find("b") is None
    return page


def test_xss_corpus_everywhere(client: TestClient, demo: None, engine: Engine) -> None:
    r = post_form(client, text=PAYLOAD, anonymous=False, name=CORPUS[1][:50], contact=CORPUS[0])
    receipt = receipt_of(r.text)
    (other,) = insert_submissions(
        engine, rows=[{"text": PAYLOAD, "check": 2, "check_evidence": f'["{CORPUS[1]}"]'}]
    )
    with Session(engine) as s:
        s.add(
            Attachment(
                submission_id=other,
                filename=CORPUS[1] + ".pdf",
                content_type="application/pdf",
                size=4,
                sha256="0" * 64,
                data=b"%PDF",
            )
        )
        s.commit()
    csrf = signed_in_admin(client, engine)

    listing = client.get("/admin?q=" + quote(CORPUS[0]))
    assert listing.status_code == 200
    page = assert_inert(listing.text, scripts=1)
    assert page.find("input", {"name": "q"})["value"] == CORPUS[0]
    page = assert_inert(client.get("/admin").text, scripts=1)
    assert "{{7*7}}" in page.text and "<script>alert(1)</script>" in page.text

    for sid in (other, other - 1):
        item = client.get(f"/admin/items/{sid}")
        page = assert_inert(item.text)
        assert page.select_one("#text").text == PAYLOAD
        # The question, reply and note boxes, nothing injected.
        assert len(page.find_all("textarea")) == 3
    file_link = assert_inert(client.get(f"/admin/items/{other}").text).select_one("#files a")
    assert file_link is not None and file_link.text == CORPUS[1] + ".pdf"

    # The admin writes the same corpus back as a reply and a note.
    client.post(f"/admin/items/{other - 1}/reply", data={"csrf": csrf, "body": PAYLOAD})
    client.post(f"/admin/items/{other - 1}/note", data={"csrf": csrf, "body": PAYLOAD})
    assert_inert(client.get(f"/admin/items/{other - 1}").text)
    assert_inert(client.get("/admin/audit").text)
    status = client.post("/r", data={"receipt": receipt})
    page = assert_inert(status.text)
    assert PAYLOAD.strip() in page.select_one(".reply .body").text

    # Exports carry the text verbatim (as text, formulas neutralised by the exporter).
    book = load_workbook(io.BytesIO(client.get("/admin/export.xlsx").content))
    texts = {row[5].value for row in book["全部意见"].iter_rows(min_row=2)}
    assert texts == {PAYLOAD}
    rows = list(
        csv.reader(io.StringIO(client.get("/admin/export.csv").content.decode("utf-8-sig")))
    )
    assert {row[5] for row in rows[1:]} == {PAYLOAD}
