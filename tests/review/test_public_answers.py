"""The reply 公开 box: every reply reaches its sender; public ones also appear, under an
excerpt of the opinion and nothing that names anyone, on the unit's page of answers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.db import session_scope
from app.intake import receipts
from app.intake.service import store_submission
from app.models import Reply, Role
from tests.conftest import TEST_SECRET
from tests.factories import insert_submissions, new_submission
from tests.helpers import soup

# Over 120 characters: the page shows at most 120, "…" included; the sender's own name and
# contact, written into the text, are masked there too.
LONG = "食堂的饭菜分量不足，" * 12 + "结尾的十个字不该出现"
NAMED = {
    "anonymous": False,
    "name": "张三丰",
    "contact": "zhang@example.org",
    "role": Role.staff.value,
    "text": "我是张三丰（zhang@example.org）。" + LONG,
}
SHOWN = ("我是×××（×××）。" + LONG)[:119] + "…"


def reply(client: TestClient, csrf: str, item: int, body: str, *, public: bool) -> None:
    data = {"csrf": csrf, "body": body} | ({"public": "1"} if public else {})
    r = client.post(f"/admin/items/{item}/reply", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_public_replies_show_without_identity(
    client: TestClient, chief: str, engine: Engine
) -> None:
    with session_scope(engine) as s:
        anonymous = store_submission(
            s, secret=TEST_SECRET, new=new_submission(text="操场的灯坏了", check_open=False)
        )
    named, elsewhere = insert_submissions(
        engine, rows=[NAMED, {"unit": "demo2", "text": "别校的意见"}]
    )
    reply(client, chief, named, "已增加分量，欢迎监督。", public=True)
    reply(client, chief, anonymous.id, "只给发件人的答复。", public=False)
    reply(client, chief, elsewhere, "别校的公开答复。", public=True)

    page = client.get("/u/demo/answers")
    assert page.status_code == 200 and "<script" not in page.text
    html = soup(page.text)
    main = html.select_one("main")
    assert main is not None
    (item,) = html.select("#answers li.answer")
    assert item.select_one(".excerpt").get_text(strip=True) == SHOWN  # type: ignore[union-attr]
    assert "已增加分量，欢迎监督。" in item.text
    text = main.get_text(" ")
    for absent in ("只给发件人的答复", "操场的灯坏了", "别校", "结尾的十个字", "张三丰",
                   "zhang@example.org", "教职工", "实名", "匿名"):
        assert absent not in text, absent
    # The reply's day, never a time of day.
    assert re.search(r"\d{4}年\d{2}月\d{2}日", text) and not re.search(r"\d{1,2}:\d{2}", text)
    # The unit's public board leads here.
    board = soup(client.get("/u/demo/board").text).select_one("#answers-link")
    assert board is not None and board["href"] == "/u/demo/answers"

    # The sender sees every reply to them, public or not.
    code = receipts.format_receipt(anonymous.receipt).replace(" ", "")
    shown = client.get(f"/api/v1/receipts/{code}").json()["replies"]
    assert [r["body"] for r in shown] == ["只给发件人的答复。"]


def test_answers_page_pages_and_refuses_bad_input(
    client: TestClient, demo: None, engine: Engine
) -> None:
    ids = insert_submissions(engine, rows=[{"text": f"意见{n}"} for n in range(21)])
    start = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        for n, sid in enumerate(ids):
            at = start + timedelta(hours=n)
            s.add(Reply(submission_id=sid, body=f"答复{n}", is_public=True, created_at=at))
            s.add(Reply(submission_id=sid, body=f"内部{n}", is_public=False, created_at=at))
    first = soup(client.get("/u/demo/answers").text)
    excerpts = [e.get_text(strip=True) for e in first.select("#answers .excerpt")]
    assert excerpts == [f"意见{n}" for n in range(20, 0, -1)]  # latest reply first
    nxt = first.select_one("#next-page")
    assert nxt is not None and nxt["href"] == "/u/demo/answers?page=2"
    second = soup(client.get("/u/demo/answers?page=2").text)
    assert [e.get_text(strip=True) for e in second.select("#answers .excerpt")] == ["意见0"]
    assert second.select_one("#next-page") is None and "内部0" not in second.text
    big = soup(client.get("/u/demo/answers?big=1&page=2").text)  # 大字 stays on while paging
    assert big.select_one("#prev-page")["href"] == "/u/demo/answers?big=1"
    assert client.get("/u/nowhere/answers").status_code == 404
    for bad in ("0", "abc", "1001", "9" * 5000, "-1"):
        r = client.get(f"/u/demo/answers?page={bad}")
        assert r.status_code == 422 and "页码" in r.text, bad
