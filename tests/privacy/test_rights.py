"""A named sender's rights by receipt code, and an admin's on their request (audited)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.models import AuditLog, Submission
from tests.factories import post_form
from tests.helpers import csrf_of, receipt_of, signed_in_admin, soup

NAME, CONTACT, TEXT = "王小明", "13912345678", "食堂的菜太咸了，希望改进。"


def named(client: TestClient) -> str:
    r = post_form(client, text=TEXT, anonymous=False, name=NAME, contact=CONTACT)
    assert r.status_code == 200, r.text
    return receipt_of(r.text)


def audits(engine: Engine, action: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(col(AuditLog.action) == action)).all())


def test_sender_downloads_then_removes_name_and_contact(
    client: TestClient, engine: Engine, demo: None
) -> None:
    receipt = named(client)
    status = soup(client.post("/r", data={"receipt": receipt}).text)
    assert status.find("form", id="forget-form") is not None
    hidden = status.select_one("#data-form input[name=receipt]")
    assert hidden is not None and hidden["value"] == receipt.replace(" ", "")

    r = client.post("/r/data", data={"receipt": receipt})
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    assert r.headers["cache-control"] == "no-store"
    held = json.loads(r.content)
    assert (held["姓名"], held["联系方式"], held["意见内容"]) == (NAME, CONTACT, TEXT)
    assert held["实名"] is True and held["附件"] == [] and held["答复"] == []

    with Session(engine) as s:
        before = s.exec(select(Submission)).one()
    refused = client.post("/r/forget", data={"receipt": receipt})
    assert refused.status_code == 422 and "勾选" in refused.text
    done = client.post("/r/forget", data={"receipt": receipt, "confirm": "1"})
    assert done.status_code == 200 and soup(done.text).find(id="forgotten") is not None
    with Session(engine) as s:
        after = s.exec(select(Submission)).one()
    assert (after.name, after.contact, after.anonymous) == (None, None, True)
    unchanged = ("text", "status", "check", "unit_id", "role", "receipt_hash", "created_at")
    assert [getattr(after, f) for f in unchanged] == [getattr(before, f) for f in unchanged]
    [entry] = audits(engine, "forget_sender")
    assert entry.actor_id is None and entry.submission_id == after.id
    assert NAME not in entry.detail and CONTACT not in entry.detail

    again = client.post("/r/forget", data={"receipt": receipt, "confirm": "1"})
    assert again.status_code == 422 and "已经是匿名" in again.text
    assert json.loads(client.post("/r/data", data={"receipt": receipt}).content)["姓名"] is None
    # Now anonymous: the receipt page no longer offers what would only be refused.
    assert soup(client.post("/r", data={"receipt": receipt}).text).find(id="forget-form") is None


def test_anonymous_sender_is_offered_only_the_letter_data(client: TestClient, demo: None) -> None:
    r = post_form(client, text=TEXT, anonymous=True)
    page = soup(client.post("/r", data={"receipt": receipt_of(r.text)}).text)
    rights = page.find("section", id="my-data")
    assert rights is not None
    assert rights.find(id="forget-form") is None and "删除我的姓名" not in rights.get_text()
    assert "个人信息" not in rights.get_text()
    assert rights.find(id="anonymous-data") is not None
    assert rights.find("form", id="data-form") is not None


def test_unknown_or_malformed_receipts_are_refused(client: TestClient, demo: None) -> None:
    r = client.post("/r/data", data={"receipt": "1234"})
    assert r.status_code == 422 and "16位" in r.text
    r = client.post("/r/forget", data={"receipt": "0000 0000 0000 0000", "confirm": "1"})
    assert r.status_code == 404


def test_admin_exports_and_removes_on_request(
    client: TestClient, engine: Engine, demo: None
) -> None:
    named(client)
    csrf = signed_in_admin(client, engine)
    with Session(engine) as s:
        sid = s.exec(select(Submission.id)).one()
    page = soup(client.get(f"/admin/items/{sid}").text)
    assert page.find("form", id="forget-sender-form") is not None
    csrf = csrf_of(str(page))

    r = client.post(f"/admin/privacy/items/{sid}/data", data={"csrf": csrf})
    assert r.status_code == 200 and json.loads(r.content)["联系方式"] == CONTACT
    assert len(audits(engine, "export_sender_data")) == 1

    r = client.post(f"/admin/privacy/items/{sid}/forget", data={"csrf": csrf, "reason": " "})
    assert r.status_code == 422
    r = client.post(
        f"/admin/privacy/items/{sid}/forget", data={"csrf": csrf, "reason": "发件人来电申请"}
    )
    assert r.status_code == 200 and "已删除发件人的姓名和联系方式" in r.text
    assert soup(r.text).find("form", id="forget-sender-form") is None
    with Session(engine) as s:
        sub = s.exec(select(Submission)).one()
    assert (sub.name, sub.contact, sub.anonymous) == (None, None, True)
    [entry] = audits(engine, "forget_sender")
    assert json.loads(entry.detail) == {"reason": "发件人来电申请"}

    r = client.post(f"/admin/privacy/items/{sid}/forget", data={"reason": "x"})
    assert r.status_code in (400, 403)  # no CSRF token
