"""Items for the bureau (局长信箱): sent there by form, API or mail, handed up by a school, and
forwarded back masked; the school never sees the original."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import session_scope
from app.core.time import TZ, today_local
from app.inbox import mailboxes
from app.inbox.ingest import strip_bureau_marker
from app.inbox.mailboxes import MailboxSpec
from app.inbox.prepare import Preparer
from app.models import (
    AdminRole,
    AuditLog,
    Bureau,
    DialogueMessage,
    InboundStatus,
    MailboxConfig,
    Submission,
    SubmissionEvent,
    Unit,
)
from app.stats.service import Period, summarize
from app.workdays.service import add_working_days
from tests.factories import PASSWORD, ROW_TIME, add_admin, incoming_mail, insert_submissions
from tests.helpers import login, receipt_of, soup
from tests.inbox.support import ingest_raw

SECRET_TEXT = "我是张伟，电话13812345678，反映校长收受家长礼品，我的孩子在三年级二班。"


@pytest.fixture
def staff(demo: None, engine: Engine) -> None:
    add_admin(engine, username="chief")
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    add_admin(engine, username="teacher", role=AdminRole.reviewer, unit_slug="demo")
    with session_scope(engine) as s:
        s.execute(update(Bureau).values(answer_days=10))  # not the school's 5


def only_item(engine: Engine) -> Submission:
    with Session(engine) as s:
        (item,) = s.exec(select(Submission)).all()
        return item


def queue_ids(client: TestClient, query: str = "") -> set[int]:
    page = client.get(f"/admin{query}")
    assert page.status_code == 200
    return {int(str(tr["data-id"])) for tr in soup(page.text).select("[data-id]")}


def assert_hidden_from_the_school(client: TestClient, sid: int) -> None:
    for user in ("head", "teacher"):
        login(client, user, PASSWORD)
        assert client.get(f"/admin/items/{sid}").status_code == 404
        assert sid not in queue_ids(client)
        assert f"\r\n{sid}," not in client.get("/admin/export.csv").content.decode("utf-8-sig")


def test_the_form_sends_past_the_school(client: TestClient, engine: Engine, staff: None) -> None:
    form = soup(client.get("/u/demo").text)
    choices = {str(i["value"]): i.parent.get_text(strip=True) for i in form.select("#to input")}
    assert choices == {"unit": "交给学校", "bureau": "直接交给教体局，学校看不到"}
    r = client.post("/u/demo", data={"text": SECRET_TEXT, "role": "家长", "anonymous": "1",
                                     "to": "bureau"})
    assert r.status_code == 200
    status = soup(client.post("/r", data={"receipt": receipt_of(r.text)}).text)
    assert status.find(id="addressee").get_text() == "教体局（学校看不到您的原文）"
    item = only_item(engine)
    assert item.to_bureau and item.due_on == add_working_days(today_local(), 10)
    assert item.id is not None
    assert_hidden_from_the_school(client, item.id)
    login(client, "chief", PASSWORD)
    assert item.id in queue_ids(client)
    page = client.get(f"/admin/items/{item.id}").text
    assert soup(page).find(id="text").get_text() == SECRET_TEXT
    bad = client.post("/u/demo", data={"text": "x", "role": "家长", "anonymous": "1",
                                       "to": "school"})
    assert bad.status_code == 422 and "教体局" in bad.text


def test_the_api_takes_to(client: TestClient, engine: Engine, staff: None) -> None:
    r = client.post("/api/v1/units/demo/submissions", json={"text": "举报", "to": "bureau"})
    assert r.status_code == 201
    assert only_item(engine).to_bureau
    plain = client.post("/api/v1/units/demo/submissions", json={"text": "普通意见"})
    assert plain.status_code == 201
    bad = client.post("/api/v1/units/demo/submissions", json={"text": "x", "to": "mayor"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/json")
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SubmissionIn"]
    assert schema["properties"]["to"]["enum"] == ["unit", "bureau"]
    assert schema["properties"]["to"]["default"] == "unit"


@pytest.mark.parametrize(
    ("subject", "tagged", "rest"),
    [
        ("【局长信箱】校长问题", True, "校长问题"),
        ("[教体局] 校长问题", True, "校长问题"),
        ("［局长信箱］校长问题", True, "校长问题"),
        ("校长问题【局长信箱】", False, "校长问题【局长信箱】"),
        ("【demo】校长问题", False, "【demo】校长问题"),
    ],
)
def test_the_bureau_subject_tag(subject: str, tagged: bool, rest: str) -> None:
    assert strip_bureau_marker(subject) == (tagged, rest)


@pytest.mark.parametrize("subject", [
    "【局长信箱】【demo】校长问题", "【demo】【匿名】【教体局】校长问题",
])
def test_mail_with_the_tag_goes_to_the_bureau(
    engine: Engine, staff: None, settings: Settings, subject: str
) -> None:
    with session_scope(engine) as s:
        spec = MailboxSpec(
            name="county", host="127.0.0.1", port=1, security="none", username="u",
            password="p", unit_slug=None, anonymous=False,
        )
        box_id = mailboxes.add_mailbox(s, spec=spec).id
    with Session(engine) as s, Preparer() as preparer:
        box = s.get(MailboxConfig, box_id)
        assert box is not None
        outcome = ingest_raw(s, settings=settings.model_copy(update={"mail_from": "y@x.test"}),
                             mailbox=box, uid=1, raw=incoming_mail(subject=subject),
                             preparer=preparer)
        assert outcome.status == InboundStatus.ingested
        s.commit()
    item = only_item(engine)
    assert item.to_bureau and item.text.startswith("校长问题")


def test_a_school_hands_an_item_up(client: TestClient, engine: Engine, staff: None) -> None:
    (sid,) = insert_submissions(engine, rows=[{"text": "校长的问题"}])
    csrf = login(client, "teacher", PASSWORD)
    hand_up = f"/admin/items/{sid}/bureau/hand-up"
    refused = client.post(hand_up, data={"csrf": csrf, "reason": "涉及校长"})
    assert refused.status_code == 403, refused.text
    csrf = login(client, "head", PASSWORD)
    page = soup(client.get(f"/admin/items/{sid}").text)
    assert page.find(id="hand-up-form") is not None
    empty = client.post(hand_up, data={"csrf": csrf, "reason": " "})
    assert empty.status_code == 422 and "理由" in empty.text
    done = client.post(hand_up, data={"csrf": csrf, "reason": "涉及校长"})
    assert done.status_code == 200 and done.url.path == "/admin"
    assert_hidden_from_the_school(client, sid)
    with Session(engine) as s:
        item = s.get(Submission, sid)
        assert item is not None and item.to_bureau
        assert item.due_on == add_working_days(today_local(), 10)
        events = s.exec(select(SubmissionEvent).where(SubmissionEvent.submission_id == sid)).all()
        assert [(e.kind, e.note) for e in events] == [("handed_up", "涉及校长")]
        audit = s.exec(select(AuditLog).where(col(AuditLog.action) == "hand_up")).all()
        assert [a.submission_id for a in audit] == [sid]
    login(client, "chief", PASSWORD)
    timeline = soup(client.get(f"/admin/items/{sid}").text).find(id="timeline")
    assert timeline is not None and "上报教体局" in timeline.get_text()


def test_the_bureau_forwards_a_masked_copy(
    client: TestClient, engine: Engine, staff: None
) -> None:
    (sid,) = insert_submissions(
        engine, rows=[{"text": SECRET_TEXT, "to_bureau": True, "anonymous": False,
                       "name": "张伟", "contact": "13812345678"}]
    )
    csrf = login(client, "head", PASSWORD)
    assert client.get(f"/admin/items/{sid}/bureau/forward").status_code == 403  # a school
    csrf = login(client, "chief", PASSWORD)
    form = soup(client.get(f"/admin/items/{sid}/bureau/forward").text)
    assert form.find(id="original").get_text() == SECRET_TEXT
    proposed = form.find(id="masked_text").get_text()
    assert proposed == "我是〔姓名〕，电话〔电话〕，反映校长收受家长礼品，我的孩子在〔班级〕。"
    adjusted = proposed.replace("收受家长礼品", "收受礼品")  # the admin edits before confirming
    forward = f"/admin/items/{sid}/bureau/forward"
    r = client.post(forward, data={"csrf": csrf, "masked_text": adjusted})
    assert r.status_code == 200 and "已把遮盖后的内容转给学校" in r.text
    with Session(engine) as s:
        item = s.get(Submission, sid)
        assert item is not None and item.text == SECRET_TEXT and item.masked_text == adjusted
    # The sender adds a detail later (on the receipt page): the school reads it masked too.
    with session_scope(engine) as s:
        later = "补充：我叫张伟，13812345678"
        s.add(DialogueMessage(submission_id=sid, from_sender=True, body=later))
    assert "13812345678" in client.get(f"/admin/items/{sid}").text  # the bureau reads it whole
    for user in ("head",):
        login(client, user, PASSWORD)
        page = client.get(f"/admin/items/{sid}")
        assert page.status_code == 200
        html = soup(page.text)
        assert html.find(id="text").get_text() == adjusted
        assert html.find(id="sender").get_text() == "匿名"
        assert "张伟" not in page.text and "13812345678" not in page.text
        assert sid in queue_ids(client)
        assert sid not in queue_ids(client, "?q=张伟")  # the original is not searchable
        export = client.get("/admin/export.csv").content.decode("utf-8-sig")
        assert adjusted in export and "张伟" not in export


def test_the_schools_counts_leave_bureau_items_out(
    client: TestClient, engine: Engine, staff: None
) -> None:
    insert_submissions(engine, rows=[{}, {"to_bureau": True}, {"to_bureau": True}])
    totals = []
    for user in ("head", "chief"):
        login(client, user, PASSWORD)
        heading = soup(client.get("/admin").text).find("h1")
        assert heading is not None
        totals.append(heading.get_text(" ", strip=True))
    assert totals == ["意见总览 共 1 条", "意见总览 共 3 条"]


def test_the_schools_statistics_leave_held_items_out(engine: Engine, staff: None) -> None:
    insert_submissions(
        engine, rows=[{}, {"to_bureau": True}, {"to_bureau": True, "masked_text": "〔姓名〕"}]
    )
    day = ROW_TIME.astimezone(TZ).date()
    with Session(engine) as s:
        demo = s.exec(select(Unit.id).where(Unit.slug == "demo")).one()
        assert demo is not None
        counts = [
            summarize(s, unit_ids=[demo], period=Period(day, day), bureau_items=b).totals.received
            for b in (False, True)
        ]
    assert counts == [2, 3]  # the school counts the forwarded copy, not the held item
