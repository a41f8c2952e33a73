"""追问 and answers on the receipt page and the API, the queue's marks, 回访 ratings (once per
reply, 不满意 reopens), 满意率, and nothing identifying kept of the sender."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.time import today_local
from app.dialogue.service import reply_satisfaction
from app.models import (
    Attachment,
    DialogueMessage,
    EventKind,
    Reply,
    ReplyRatingRow,
    Status,
    Submission,
    SubmissionEvent,
    utcnow,
)
from app.workdays.service import add_working_days
from tests.dialogue.support import ask, receipt_page, reply, submit
from tests.factories import jpeg_with_gps, one_page_pdf
from tests.helpers import soup
from tests.intake.test_anonymity import MARK_IP, MARK_UA, _dump


def test_the_exchange_on_the_receipt_page_and_the_item(
    client: TestClient, chief: str, engine: Engine
) -> None:
    receipt, item = submit(client, engine)
    ask(client, chief, item, "请问是哪个年级的食堂窗口？")
    page = receipt_page(client, receipt)
    [question] = page.select("article.question p.body")
    assert question.get_text() == "请问是哪个年级的食堂窗口？"
    form = page.select_one("#message-form")
    assert form is not None and form["enctype"] == "multipart/form-data"
    hidden = form.select_one("input[name=receipt]")
    assert hidden is not None and hidden["value"] == receipt

    photo, pdf = jpeg_with_gps(), one_page_pdf()
    r = client.post(
        "/r/message",
        data={"receipt": receipt, "text": "三年级的窗口，中午。"},
        files=[
            ("files", ("张三的照片.jpg", photo, "image/jpeg")),
            ("files", ("notice.pdf", pdf, "application/pdf")),
        ],
    )
    assert r.status_code == 200
    shown = soup(r.text)
    assert shown.select_one("#notice") is not None
    assert [a.get_text() for a in shown.select("article.answer p.body")] == ["三年级的窗口，中午。"]
    # The same cleaner as the form: the photo lost its EXIF, the file names are neutral.
    with Session(engine) as s:
        files = s.exec(select(Attachment).where(Attachment.submission_id == item)).all()
        assert sorted(f.filename for f in files) == ["附件1.jpg", "附件2.pdf"]
        assert all(b"PhoneMaker" not in f.data for f in files)
        [message] = s.exec(select(DialogueMessage).where(DialogueMessage.from_sender)).all()
        assert message.author_id is None and message.files == 2
        assert message.created_at.second == 0 and message.created_at.microsecond == 0
        assert all(f.created_at.second == 0 for f in files)

    # The queue marks the item; the filter finds it; opening the item reads it.
    queue = soup(client.get("/admin").text)
    badge = queue.select_one(f"li.item[data-id='{item}'] .unread")
    assert badge is not None and badge.get_text() == "有新留言"
    only = soup(client.get("/admin?flag=unread").text)
    assert [li["data-id"] for li in only.select("#queue li.item")] == [str(item)]
    reply(client, chief, item, "已请食堂调整。")
    itempage = soup(client.get(f"/admin/items/{item}").text)
    kinds = [
        " ".join(c for c in a["class"] if c != "reply") or "reply"
        for a in itempage.select("article.reply")
    ]
    assert kinds == ["question", "followup answer", "reply"]
    assert soup(client.get("/admin?flag=unread").text).select("#queue li.item") == []
    assert soup(client.get("/admin").text).select_one(f"li.item[data-id='{item}'] .unread") is None


def test_bad_sender_input_is_refused_in_chinese(
    client: TestClient, chief: str, engine: Engine
) -> None:
    receipt, _item = submit(client, engine)
    empty = client.post("/r/message", data={"receipt": receipt, "text": "  "})
    assert empty.status_code == 422
    assert "请填写要补充的内容" in soup(empty.text).select_one("#dialogue-error").get_text()  # type: ignore[union-attr]
    wrong = client.post("/r/message", data={"receipt": "1" * 16, "text": "补充"})
    assert wrong.status_code == 404 and soup(wrong.text).select_one("#lookup-error") is not None
    bad_file = client.post(
        "/r/message",
        data={"receipt": receipt, "text": "看附件"},
        files=[("files", ("a.exe", b"MZ\x90\x00", "application/octet-stream"))],
    )
    assert bad_file.status_code == 415
    with Session(engine) as s:
        assert s.exec(select(DialogueMessage)).all() == []
    empty_question = client.post(
        f"/admin/dialogue/{_item}/question", data={"csrf": chief, "body": " "}
    )
    assert empty_question.status_code == 422


def test_rating_once_per_reply_and_unsatisfied_reopens(
    client: TestClient, chief: str, engine: Engine
) -> None:
    receipt, item = submit(client, engine)
    assert receipt_page(client, receipt).select("form.rate") == []
    reply(client, chief, item, "第一次答复。")
    with Session(engine) as s:
        sub = s.get(Submission, item)
        assert sub is not None
        sub.due_on = date(2026, 1, 5)  # long past: 重办 must promise a new day
        s.add(sub)
        s.commit()
    page = receipt_page(client, receipt)
    [form] = page.select("form.rate")
    reply_id = int(form.select_one("input[name=reply_id]")["value"])  # type: ignore[index]
    assert [i["value"] for i in form.select("input[name=rating]")] == [
        "satisfied",
        "basically_satisfied",
        "unsatisfied",
    ]
    r = client.post(
        "/r/rate",
        data={
            "receipt": receipt,
            "reply_id": reply_id,
            "rating": "unsatisfied",
            "comment": "没解决",
        },
    )
    assert r.status_code == 200
    after = soup(r.text)
    assert after.select("form.rate") == []
    assert after.select_one(f"#rated-{reply_id}").get_text() == "您的评价：不满意"  # type: ignore[union-attr]
    again = client.post(
        "/r/rate", data={"receipt": receipt, "reply_id": reply_id, "rating": "satisfied"}
    )
    assert again.status_code == 409
    with Session(engine) as s:
        sub = s.get(Submission, item)
        assert sub is not None and sub.status == Status.new
        assert sub.updated_at.second == 0 and sub.updated_at.microsecond == 0
        assert sub.due_on == add_working_days(today_local(), 5)
        [event] = s.exec(
            select(SubmissionEvent).where(SubmissionEvent.kind == EventKind.reopened)
        ).all()
        assert event.submission_id == item and event.actor_id is None
    # 重办 in the queue (and its filter) and on the item page.
    queue = soup(client.get("/admin?flag=reopened").text)
    [row] = queue.select("#queue li.item")
    assert row["data-id"] == str(item) and row.select_one(".reopened") is not None
    itempage = soup(client.get(f"/admin/items/{item}").text)
    assert "重办" in itempage.select_one("#status").get_text()  # type: ignore[union-attr]
    assert "不满意" in itempage.select_one(f"#reply-{reply_id}").get_text()  # type: ignore[union-attr]
    # A second reply can be rated again.
    reply(client, chief, item, "第二次答复：已整改。")
    forms = receipt_page(client, receipt).select("form.rate")
    assert len(forms) == 1
    second = int(forms[0].select_one("input[name=reply_id]")["value"])  # type: ignore[index]
    ok = client.post(
        "/r/rate", data={"receipt": receipt, "reply_id": second, "rating": "satisfied"}
    )
    assert ok.status_code == 200
    with Session(engine) as s:
        sub = s.get(Submission, item)
        assert sub is not None and sub.status == Status.replied
        unit_id = sub.unit_id
        now = utcnow()
        assert reply_satisfaction(
            s, unit_ids=[unit_id], start=now - timedelta(days=1), end=now + timedelta(days=1)
        ) == (1, 2)
        assert reply_satisfaction(
            s, unit_ids=[unit_id + 999], start=now - timedelta(days=1), end=now + timedelta(days=1)
        ) == (0, 0)
        assert all(r.created_at.second == 0 for r in s.exec(select(ReplyRatingRow)).all())


def test_a_reply_of_another_item_cannot_be_rated(
    client: TestClient, chief: str, engine: Engine
) -> None:
    receipt, _item = submit(client, engine)
    _other_receipt, other = submit(client, engine)
    reply(client, chief, other, "别人的答复。")
    with Session(engine) as s:
        [foreign] = s.exec(select(Reply.id)).all()
    r = client.post(
        "/r/rate", data={"receipt": receipt, "reply_id": foreign, "rating": "unsatisfied"}
    )
    assert r.status_code == 404
    with Session(engine) as s:
        assert s.exec(select(ReplyRatingRow)).all() == []


def test_the_receipt_api(client: TestClient, chief: str, engine: Engine) -> None:
    receipt, item = submit(client, engine)
    ask(client, chief, item, "能说说具体时间吗？")
    reply(client, chief, item, "已转食堂。")
    spaced = f"{receipt[:4]} {receipt[4:8]}-{receipt[8:]}"
    got = client.get(f"/api/v1/receipts/{spaced}")
    assert got.status_code == 200
    body = got.json()
    with Session(engine) as s:
        promised = s.get(Submission, item).due_on  # type: ignore[union-attr]
    assert promised is not None and body["due_on"] == promised.isoformat()
    [question] = body["questions"]
    [answer] = body["replies"]
    assert question["body"] == "能说说具体时间吗？" and isinstance(question["id"], int)
    assert answer["body"] == "已转食堂。" and answer["rating"] is None

    posted = client.post(f"/api/v1/receipts/{receipt}/messages", json={"text": "每天中午。"})
    assert posted.status_code == 201 and posted.json()["created_at"].endswith(":00Z")
    assert (
        client.post(f"/api/v1/receipts/{receipt}/messages", json={"text": " "}).status_code == 422
    )
    assert (
        client.post(
            f"/api/v1/receipts/{receipt}/messages", json={"text": "x", "ip": "1.2.3.4"}
        ).status_code
        == 422
    )

    rate = {"reply_id": answer["id"], "rating": "basically_satisfied", "comment": "还行"}
    first = client.post(f"/api/v1/receipts/{receipt}/ratings", json=rate)
    assert first.status_code == 201 and first.json() == {
        "reply_id": answer["id"],
        "rating": "basically_satisfied",
        "reopened": False,
    }
    second = client.post(f"/api/v1/receipts/{receipt}/ratings", json=rate)
    assert second.status_code == 409 and second.json()["code"] == "conflict"
    bad = client.post(
        f"/api/v1/receipts/{receipt}/ratings", json={"reply_id": answer["id"], "rating": "great"}
    )
    assert bad.status_code == 422
    assert client.get(f"/api/v1/receipts/{'9' * 16}").status_code == 404
    assert (
        client.post(f"/api/v1/receipts/{'9' * 16}/messages", json={"text": "x"}).status_code == 404
    )
    assert client.get(f"/api/v1/receipts/{receipt}").json()["replies"][0]["rating"] == (
        "basically_satisfied"
    )
    assert soup(client.get("/admin").text).select_one(f"li.item[data-id='{item}'] .unread")
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/receipts/{receipt}/messages", "/api/v1/receipts/{receipt}/ratings"):
        assert set(spec["paths"][path]["post"]["responses"]) >= {"201", "404", "409", "422", "429"}


def test_sender_messages_are_rate_limited(database_url: str, engine: Engine, demo: None) -> None:
    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(database_url, rate_limit="2/10min")
    with TestClient(create_app(settings)) as limited:
        receipt, _item = submit(limited, engine)
        # The form post above counted too: one message more is allowed, then 429.
        assert (
            limited.post(f"/api/v1/receipts/{receipt}/messages", json={"text": "一"}).status_code
            == 201
        )
        assert (
            limited.post(f"/api/v1/receipts/{receipt}/messages", json={"text": "二"}).status_code
            == 429
        )
        page = limited.post("/r/message", data={"receipt": receipt, "text": "三"})
        assert page.status_code == 429


@pytest.mark.parametrize("marker", [MARK_IP, MARK_UA])
def test_nothing_identifying_is_kept(
    client: TestClient, chief: str, engine: Engine, marker: str
) -> None:
    headers = {"X-Forwarded-For": MARK_IP, "User-Agent": MARK_UA, "X-Real-IP": MARK_IP}
    receipt, item = submit(client, engine)
    reply(client, chief, item, "答复。")
    client.post("/r/message", data={"receipt": receipt, "text": "补充一句"}, headers=headers)
    client.post(f"/api/v1/receipts/{receipt}/messages", json={"text": "再补充"}, headers=headers)
    with Session(engine) as s:
        [reply_id] = s.exec(select(Reply.id)).all()
    rated = client.post(
        f"/api/v1/receipts/{receipt}/ratings",
        json={"reply_id": reply_id, "rating": "satisfied"},
        headers=headers,
    )
    assert rated.status_code == 201
    dump = _dump(engine)
    assert "补充一句" in dump and "再补充" in dump
    assert marker not in dump and receipt not in dump
