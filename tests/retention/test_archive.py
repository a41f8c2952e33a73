"""Receipts stop working the bureau's archive days after closing: 已归档, page and JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import session_scope
from app.inbox import mailboxes
from app.inbox.mailboxes import MailboxSpec
from app.inbox.prepare import Preparer
from app.models import InboundStatus, MailboxConfig
from tests.factories import incoming_mail
from tests.helpers import soup
from tests.inbox.support import ingest_raw
from tests.retention.helpers import closed_item


def test_an_archived_receipt_says_so(client: TestClient, engine: Engine, demo: None) -> None:
    old = closed_item(engine, "old", closed_days_ago=365)
    r = client.post("/r", data={"receipt": old.receipt})
    assert r.status_code == 410
    error = soup(r.text).find(class_="error")
    assert error is not None and "已归档" in error.get_text()
    api = client.get(f"/api/v1/receipts/{old.receipt}")
    assert api.status_code == 410 and api.json()["code"] == "archived"
    assert "已归档" in api.json()["detail"]
    english = client.get(f"/api/v1/receipts/{old.receipt}", headers={"Accept-Language": "en"})
    assert "archived" in english.json()["detail"]
    for path in ("/r/data", "/r/message"):
        refused = client.post(path, data={"receipt": old.receipt, "text": "还在吗"})
        assert refused.status_code == 410, path
        assert "已归档" in refused.text
    # Closed before the timeline existed: its last change is the closing time.
    older = closed_item(engine, "older", closed_days_ago=400, event=False)
    assert client.post("/r", data={"receipt": older.receipt}).status_code == 410


def test_receipts_work_until_the_archive_day(
    client: TestClient, engine: Engine, demo: None
) -> None:
    for days in (364, None):
        item = closed_item(engine, f"d{days}", closed_days_ago=days)
        r = client.post("/r", data={"receipt": item.receipt})
        assert r.status_code == 200, r.text
        assert client.get(f"/api/v1/receipts/{item.receipt}").status_code == 200


def test_a_mail_about_an_archived_case_starts_a_new_one(
    engine: Engine, demo: None, settings: Settings
) -> None:
    old = closed_item(engine, "old", closed_days_ago=365)
    recent = closed_item(engine, "recent", closed_days_ago=364)
    with session_scope(engine) as s:
        spec = MailboxSpec(
            name="archive-test", host="127.0.0.1", port=1, security="none", username="u",
            password="p", unit_slug="demo", anonymous=False,
        )
        box_id = mailboxes.add_mailbox(s, spec=spec).id
    settings = settings.model_copy(update={"mail_from": "y@x.test"})
    outcomes = []
    with Session(engine) as s, Preparer() as preparer:
        box = s.get(MailboxConfig, box_id)
        assert box is not None
        for uid, item in enumerate((old, recent), start=1):
            raw = incoming_mail(n=uid, subject=f"回复：回执码 {item.receipt}")
            outcomes.append(
                ingest_raw(s, settings=settings, mailbox=box, uid=uid, raw=raw, preparer=preparer)
            )
        s.commit()
    assert [o.status for o in outcomes] == [InboundStatus.ingested, InboundStatus.followup]
    assert outcomes[1].submission_id == recent.id
