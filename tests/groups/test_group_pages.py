"""The queue's group rows, the item page's group section, split, join and the group reply."""

from __future__ import annotations

import email
from email import policy

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.groups.jobs import group_new_items
from app.main import create_app
from app.models import AuditLog, ConcernMember, Reply, Submission
from app.outbox.jobs import send_due_mail
from tests.conftest import make_settings, smtp_sender
from tests.factories import PASSWORD, add_admin, insert_submissions, post_form
from tests.groups.corpus import CONCERNS, OTHERS
from tests.helpers import login, receipt_of, soup
from tests.servers.smtp import SmtpServer


def queue_rows(client: TestClient, query: str = "") -> dict[int, str]:
    """Row id -> its 同类 badge text ('' when none), as the queue page shows them."""
    page = soup(client.get(f"/admin?{query}").text)
    return {
        int(li["data-id"]): (badge.text if (badge := li.select_one(".group-size")) else "")
        for li in page.select("#queue li.item")
    }


def group_of(engine: Engine, sid: int) -> int | None:
    with Session(engine) as s:
        member = s.get(ConcernMember, sid)
        return member.group_id if member else None


def test_queue_shows_a_group_as_one_row_that_opens_into_its_members(
    client: TestClient, chief: str, engine: Engine
) -> None:
    canteen = insert_submissions(engine, rows=[{"text": t} for t in CONCERNS[0][:5]])
    (other,) = insert_submissions(engine, rows=[{"text": OTHERS[0]}])
    group_new_items(engine)
    rows = queue_rows(client)
    assert rows == {canteen[0]: "同类 5 条", other: ""}
    link = soup(client.get("/admin").text).select_one(f'li[data-id="{canteen[0]}"] .group-size')
    assert link is not None
    opened = queue_rows(client, str(link["href"]).split("?", 1)[1])
    assert sorted(opened) == canteen and set(opened.values()) == {"同类 5 条"}
    # Any other filter shows every item it selects, each with its badge; sorting still works.
    assert sorted(queue_rows(client, "status=new")) == sorted([*canteen, other])
    assert list(queue_rows(client, "sort=old")) == [canteen[0], other]
    assert queue_rows(client, "unit=demo2") == {}
    bad = client.get("/admin?group=x")
    assert bad.status_code == 422 and "同类问题编号不正确" in bad.text


def test_split_join_and_audit(client: TestClient, chief: str, engine: Engine) -> None:
    canteen = insert_submissions(engine, rows=[{"text": t} for t in CONCERNS[0][:4]])
    bus = insert_submissions(engine, rows=[{"text": t} for t in CONCERNS[1][:3]])
    group_new_items(engine)
    page = soup(client.get(f"/admin/items/{canteen[1]}").text)
    assert [int(li["data-id"]) for li in page.select("#group li")] == canteen
    assert "同类 4 条" in page.select_one("#group-title").text
    r = client.post(f"/admin/groups/{canteen[1]}/split", data={"csrf": chief, "member": canteen[0]})
    assert r.status_code == 200 and "移出" in soup(r.text).select_one("#notice").text
    assert group_of(engine, canteen[0]) is None
    assert canteen[0] not in [int(li["data-id"]) for li in soup(r.text).select("#group li")]
    # A split item is not regrouped, nor matched: its twin joins the group it was split from.
    gid = group_of(engine, canteen[1])
    (twin,) = insert_submissions(engine, rows=[{"text": CONCERNS[0][0]}])
    group_new_items(engine)
    assert (group_of(engine, canteen[0]), group_of(engine, twin)) == (None, gid)
    r = client.post(f"/admin/groups/{canteen[1]}/join", data={"csrf": chief, "other": str(bus[0])})
    assert r.status_code == 200 and "合并" in soup(r.text).select_one("#notice").text
    assert {group_of(engine, sid) for sid in [*canteen[1:], *bus]} == {gid}
    assert group_of(engine, bus[0]) == gid
    refused = client.post(f"/admin/groups/{canteen[1]}/join", data={"csrf": chief, "other": "x"})
    assert refused.status_code == 422 and soup(refused.text).select_one("#group-error")
    missing = client.post(f"/admin/groups/{canteen[0]}/split", data={"csrf": chief, "member": 999})
    assert missing.status_code == 404
    with Session(engine) as s:
        actions = s.exec(select(AuditLog.action).order_by(col(AuditLog.id))).all()
    assert [a for a in actions if a.startswith("group_")] == ["group_split", "group_join"]


def test_one_group_reply_reaches_every_sender(
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
    senders = [
        {"anonymous": False, "name": "张三", "contact": "zhang@example.org"},
        {"anonymous": True},
        {"anonymous": False, "name": "李四", "contact": "li@example.org"},
        {"anonymous": False, "name": "王五", "contact": "13800000000"},
    ]
    with TestClient(create_app(settings)) as client:
        receipts = []
        for text, sender in zip(CONCERNS[0], senders, strict=False):
            r = post_form(client, text=text, **sender)
            receipts.append(receipt_of(r.text))
        group_new_items(engine)
        with Session(engine) as s:
            ids = list(s.exec(select(Submission.id).order_by(col(Submission.id))).all())
        csrf = login(client, "chief", PASSWORD)
        unticked = client.post(f"/admin/groups/{ids[2]}/reply", data={"csrf": csrf, "body": "x"})
        assert unticked.status_code == 422
        answer = "食堂价格已核定为每份10元，下周一起执行。"
        r = client.post(
            f"/admin/groups/{ids[2]}/reply", data={"csrf": csrf, "body": answer, "whole": "1"}
        )
        assert r.status_code == 200 and soup(r.text).select_one("#notice")
        for receipt in receipts:
            status = client.post("/r", data={"receipt": receipt}).text
            assert answer in status and "已答复" in status
        # Queued with the reply, sent by the worker: each named sender with an address once.
        assert send_due_mail(engine, smtp_sender(smtp_server)).sent == 2
        assert send_due_mail(engine, smtp_sender(smtp_server)).sent == 0
        sent = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
        assert sent == ["li@example.org", "zhang@example.org"]
        for m in smtp_server.messages:
            msg = email.message_from_bytes(m.data, policy=policy.default)
            assert answer in msg.get_body().get_content()  # type: ignore[union-attr]
        # Every member keeps its own page and its own reply.
        for sid in ids:
            assert client.get(f"/admin/items/{sid}").status_code == 200
    with Session(engine) as s:
        assert len(s.exec(select(Reply)).all()) == len(ids)
        group_replies = s.exec(select(AuditLog).where(AuditLog.action == "group_reply")).all()
    assert len(group_replies) == 1
