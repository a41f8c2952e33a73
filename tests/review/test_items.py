"""The item page: files, re-tag, workflow, assignment, notes, duplicates, replies by email."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select, update

from app.main import create_app
from app.models import (
    AdminRole,
    Attachment,
    AuditLog,
    InternalNote,
    OutboxKind,
    OutboxMail,
    OutboxStatus,
    Reply,
    Submission,
    TagCorrection,
    utcnow,
)
from app.outbox.jobs import send_due_mail
from tests.conftest import make_settings, smtp_sender
from tests.factories import PASSWORD, add_admin, insert_submissions, post_form
from tests.helpers import login, receipt_of, soup
from tests.servers.smtp import SmtpServer


def submit(client: TestClient, **form: Any) -> str:
    """A suggestion sent through the public form (tests.factories.post_form); its receipt."""
    r = post_form(client, **form)
    assert r.status_code == 200, r.text
    return receipt_of(r.text)


def newest(engine: Engine) -> Submission:
    with Session(engine) as s:
        return s.exec(select(Submission).order_by(Submission.id.desc())).first()  # type: ignore[union-attr,return-value]


def status_of(client: TestClient, receipt: str) -> str:
    return client.post("/r", data={"receipt": receipt}).text


def test_item_page_and_workflow(client: TestClient, chief: str, engine: Engine) -> None:
    receipt = submit(client, text="希望学校\n改进食堂。")
    sub = newest(engine)
    page = client.get(f"/admin/items/{sub.id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert soup(page.text).select_one("#text").text == "希望学校\n改进食堂。"
    # Re-tag: a correction for the tagger, status 已分类.
    r = client.post(f"/admin/items/{sub.id}/retag", data={"csrf": chief, "check": "5"})
    assert r.status_code == 200 and soup(r.text).select_one("#notice")
    with Session(engine) as s:
        assert s.exec(select(TagCorrection)).one().new_check == 5
        assert s.get(Submission, sub.id).status == "classified"  # type: ignore[union-attr]
    # A jump the workflow does not allow is refused with a message.
    r = client.post(f"/admin/items/{sub.id}/status", data={"csrf": chief, "status": "new"})
    assert r.status_code == 422 and "不能从" in soup(r.text).select_one("#item-error").text
    r = client.post(f"/admin/items/{sub.id}/status", data={"csrf": chief, "status": "closed"})
    assert "已办结" in soup(r.text).select_one("#status").text
    assert "已办结" in status_of(client, receipt)
    # Internal notes are admin-only: not on the receipt page.
    client.post(f"/admin/items/{sub.id}/note", data={"csrf": chief, "body": "内部讨论"})
    assert "内部讨论" in client.get(f"/admin/items/{sub.id}").text
    assert "内部讨论" not in status_of(client, receipt)
    with Session(engine) as s:
        assert s.exec(select(InternalNote)).one().body == "内部讨论"
        actions = [a.action for a in s.exec(select(AuditLog)).all()]
    assert {"retag", "status", "note"} <= set(actions)


def test_assign_forwards_to_a_reviewer(client: TestClient, chief: str, engine: Engine) -> None:
    rev = add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo")
    other = add_admin(engine, username="other", role=AdminRole.reviewer, unit_slug="demo2")
    ids = insert_submissions(engine, rows=[{}])
    r = client.post(f"/admin/items/{ids[0]}/assign", data={"csrf": chief, "assignee": str(other)})
    assert r.status_code == 422  # a reviewer of another school
    client.post(f"/admin/items/{ids[0]}/assign", data={"csrf": chief, "assignee": str(rev)})
    with Session(engine) as s:
        sub = s.get(Submission, ids[0])
        assert sub is not None and sub.assignee_id == rev and sub.status == "forwarded"
    client.cookies.clear()
    login(client, "rev", PASSWORD)
    mine = client.get("/admin?mine=1")
    assert [li["data-id"] for li in soup(mine.text).select("#queue li")] == [str(ids[0])]


def test_duplicates_merge_into_the_original(client: TestClient, chief: str, engine: Engine) -> None:
    a, b, c = insert_submissions(engine, rows=[{}, {}, {"unit": "demo2"}])
    assert (
        client.post(
            f"/admin/items/{b}/duplicate", data={"csrf": chief, "target": str(b)}
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/admin/items/{b}/duplicate", data={"csrf": chief, "target": "99999"}
        ).status_code
        == 422
    )
    client.post(f"/admin/items/{b}/duplicate", data={"csrf": chief, "target": str(a)})
    # Merging into a duplicate points at its original instead.
    client.post(f"/admin/items/{c}/duplicate", data={"csrf": chief, "target": str(b)})
    with Session(engine) as s:
        assert s.get(Submission, b).duplicate_of == a  # type: ignore[union-attr]
        assert s.get(Submission, c).duplicate_of == a  # type: ignore[union-attr]
        assert s.get(Submission, c).status == "duplicate"  # type: ignore[union-attr]
    page = soup(client.get(f"/admin/items/{a}").text)
    assert {x.text for x in page.select(".facts a")} >= {f"#{b}", f"#{c}"}
    assert (
        client.post(
            f"/admin/items/{a}/duplicate", data={"csrf": chief, "target": str(b)}
        ).status_code
        == 422
    )
    # Undo: back to 新收, link cleared.
    client.post(f"/admin/items/{b}/status", data={"csrf": chief, "status": "new"})
    with Session(engine) as s:
        sub = s.get(Submission, b)
        assert sub is not None and sub.status == "new" and sub.duplicate_of is None


def test_attachments_download_only(client: TestClient, chief: str, engine: Engine) -> None:
    ids = insert_submissions(engine, rows=[{}, {"unit": "demo2"}])
    with Session(engine) as s:
        for sid, name, ctype, data in (
            (ids[0], "照片.png", "image/png", b"\x89PNG\r\n\x1a\nrest"),
            (ids[0], "x.html", "text/html", b"<script>alert(1)</script>"),
            (ids[1], "b.pdf", "application/pdf", b"%PDF-1.4"),
        ):
            s.add(
                Attachment(
                    submission_id=sid,
                    filename=name,
                    content_type=ctype,
                    size=len(data),
                    sha256="0" * 64,
                    data=data,
                )
            )
        s.commit()
        files = {a.filename: a.id for a in s.exec(select(Attachment)).all()}
    r = client.get(f"/admin/items/{ids[0]}/files/{files['照片.png']}")
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "%E7%85%A7%E7%89%87.png" in r.headers["content-disposition"]
    assert r.headers["x-content-type-options"] == "nosniff"
    html = client.get(f"/admin/items/{ids[0]}/files/{files['x.html']}")
    assert html.headers["content-type"] == "application/octet-stream"
    # A file id of another item, through this item's URL: not found.
    assert client.get(f"/admin/items/{ids[0]}/files/{files['b.pdf']}").status_code == 404
    client.cookies.clear()
    assert (
        client.get(
            f"/admin/items/{ids[0]}/files/{files['照片.png']}", follow_redirects=False
        ).status_code
        == 303
    )


def test_reply_shows_on_receipt_page_and_is_emailed(
    database_url: str, demo: None, engine: Engine, smtp_server: SmtpServer
) -> None:
    settings = make_settings(
        database_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        mail_from="yijian@school.example",
    )
    add_admin(engine)
    with TestClient(create_app(settings)) as client:
        csrf = login(client, "chief", PASSWORD)
        named = submit(
            client,
            text="请公开收费明细。",
            anonymous=False,
            name="张三",
            contact="zhang@example.org",
        )
        named_id = newest(engine).id
        anon = submit(client, text="匿名提一条。")
        anon_id = newest(engine).id
        r = client.post(
            f"/admin/items/{named_id}/reply",
            data={"csrf": csrf, "body": "已在校门口公示。", "public": "1"},
        )
        assert soup(r.text).select_one("#notice").text.startswith("答复已保存，并已发送")
        assert len(smtp_server.messages) == 1
        mail = smtp_server.messages[0]
        assert mail.rcpt_tos == ["zhang@example.org"]
        msg = email.message_from_bytes(mail.data, policy=policy.default)
        assert "已在校门口公示。" in msg.get_body().get_content()  # type: ignore[union-attr]
        assert "已在校门口公示。" in status_of(client, named)
        assert "已答复" in status_of(client, named)
        client.post(f"/admin/items/{anon_id}/reply", data={"csrf": csrf, "body": "收到。"})
        assert len(smtp_server.messages) == 1  # anonymous: no contact, no mail
        assert "收到。" in status_of(client, anon)
        # The SMTP server refuses for now: the reply is kept, its mail waits in the outbox,
        # and the worker sends it once the server takes mail again.
        smtp_server.refuse = "451 4.3.0 Try again later"
        r = client.post(f"/admin/items/{named_id}/reply", data={"csrf": csrf, "body": "补充说明。"})
        assert "系统会自动重试" in soup(r.text).select_one("#notice").text
        assert "补充说明。" in status_of(client, named)
        # For good (no such user): the admin is told it will not go out.
        smtp_server.refuse = "550 5.1.1 No such user"
        r = client.post(f"/admin/items/{named_id}/reply", data={"csrf": csrf, "body": "再补充。"})
        assert "没有发出去（" in soup(r.text).select_one("#notice").text
    with Session(engine) as s:
        outbox = s.exec(select(OutboxMail).order_by(col(OutboxMail.id))).all()
        assert [(m.kind, m.status, m.attempts) for m in outbox] == [
            (OutboxKind.reply, OutboxStatus.sent, 0),
            (OutboxKind.reply, OutboxStatus.pending, 1),
            (OutboxKind.reply, OutboxStatus.failed, 1),
        ]
        # Sent or failed for good: nothing of the address or the mail is kept.
        assert [m.to_addr is None and m.message is None for m in outbox] == [True, False, True]
        waiting = outbox[1].id
        s.execute(update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    smtp_server.refuse = None
    send_due_mail(engine, smtp_sender(smtp_server))
    assert len(smtp_server.messages) == 2
    retried = email.message_from_bytes(smtp_server.messages[1].data, policy=policy.default)
    assert "补充说明。" in retried.get_body().get_content()  # type: ignore[union-attr]
    with Session(engine) as s:
        replies = s.exec(select(Reply).order_by(Reply.id)).all()
        assert [r.is_public for r in replies] == [True, False, False, False]
        assert s.exec(select(OutboxMail).where(OutboxMail.id == waiting)).one().status == "sent"
        logged = [a.detail for a in s.exec(select(AuditLog)).all()]
    assert not any("zhang@example.org" in d or "张三" in d for d in logged)


def test_empty_reply_and_note_are_refused(client: TestClient, chief: str, engine: Engine) -> None:
    ids = insert_submissions(engine, rows=[{}])
    assert (
        client.post(f"/admin/items/{ids[0]}/reply", data={"csrf": chief, "body": "  "}).status_code
        == 422
    )
    assert (
        client.post(f"/admin/items/{ids[0]}/note", data={"csrf": chief, "body": ""}).status_code
        == 422
    )
    assert (
        client.post(f"/admin/items/{ids[0]}/retag", data={"csrf": chief, "check": "7"}).status_code
        == 422
    )
    assert client.get("/admin/items/99999").status_code == 404
