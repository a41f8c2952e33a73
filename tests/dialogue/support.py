"""Helpers for the dialogue tests: a sender with a receipt, and what each side sees."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.models import Submission
from tests.factories import post_form
from tests.helpers import receipt_of, soup


def submit(
    client: TestClient, engine: Engine, *, anonymous: bool = True, contact: str | None = None
) -> tuple[str, int]:
    """A suggestion through the form: its receipt (16 digits) and item id."""
    page = post_form(
        client, anonymous=anonymous, name=None if anonymous else "王芳", contact=contact
    )
    receipt = receipt_of(page.text).replace(" ", "")
    with Session(engine) as s:
        newest = s.exec(select(Submission.id).order_by(col(Submission.id).desc())).first()
        assert newest is not None
        return receipt, newest


def receipt_page(client: TestClient, receipt: str) -> BeautifulSoup:
    r = client.post("/r", data={"receipt": receipt})
    assert r.status_code == 200, r.text
    return soup(r.text)


def ask(client: TestClient, csrf: str, item: int, question: str) -> None:
    r = client.post(f"/admin/dialogue/{item}/question", data={"csrf": csrf, "body": question})
    assert r.status_code == 200 and r.url.path == f"/admin/items/{item}", r.text


def reply(client: TestClient, csrf: str, item: int, body: str) -> None:
    r = client.post(f"/admin/items/{item}/reply", data={"csrf": csrf, "body": body})
    assert r.status_code == 200, r.text
