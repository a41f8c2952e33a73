"""The review queue: filters, keyset pages, counts, exports, bulk actions, audit page."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.db import session_scope
from app.core.time import local_midnight, today_local
from app.models import AdminRole, AuditLog, Reply, Submission, utcnow
from tests.factories import PASSWORD, ROW_TIME, add_admin, insert_submissions
from tests.helpers import login, soup


def ids_on(html: str) -> list[int]:
    return [int(li["data-id"]) for li in soup(html).select("#queue li.item")]


def test_filters_combine_and_stay_in_links(client: TestClient, chief: str, engine: Engine) -> None:
    ids = insert_submissions(
        engine,
        rows=[
            {"check": 3, "check_score": 0.81, "check_evidence": json.dumps(["门难进"])},
            {"check": 3, "unit": "demo2", "text": "食堂太贵"},
            {"check": 1, "channel": "email", "role": "教职工", "anonymous": False, "name": "王"},
            {"check": 3, "status": "closed", "text": "食堂已改"},
        ],
    )
    page = client.get("/admin?check=3")
    assert sorted(ids_on(page.text)) == [ids[0], ids[1], ids[3]]
    first = soup(page.text).select_one(f'li[data-id="{ids[0]}"]')
    assert first is not None
    assert "工作作风" in first.text and "0.81" in first.text and "门难进" in first.text
    assert ids_on(client.get("/admin?check=3&unit=demo2").text) == [ids[1]]
    assert ids_on(client.get("/admin?check=3&q=食堂&status=closed").text) == [ids[3]]
    assert ids_on(client.get("/admin?channel=email&role=教职工&anonymous=0").text) == [ids[2]]
    assert ids_on(client.get("/admin?anonymous=1&check=1").text) == []
    # Links keep the filter: the export and the per-check cards.
    html = soup(client.get("/admin?unit=demo&q=食堂").text)
    assert (
        html.select_one("#export-xlsx")["href"]
        == "/admin/export.xlsx?unit=demo&q=%E9%A3%9F%E5%A0%82"
    )
    # Counts at the top cover everything visible, not just the filter.
    by_check = soup(page.text).select_one("#by-check")
    assert by_check is not None and "3" in by_check.text


def test_progress_and_untagged_filters(client: TestClient, chief: str, engine: Engine) -> None:
    today = today_local()
    long_ago = local_midnight(today - timedelta(days=30))
    ids = insert_submissions(
        engine,
        rows=[
            {"check": 3, "at": long_ago},  # open for a month: overdue
            {"check": None, "at": utcnow()},  # open, received today, not tagged yet
            {"check": 3, "status": "replied"},
            {"check": 1, "status": "closed"},
            {"check": 2, "at": long_ago},  # open status, but a reply was written: answered
            {"check": 2, "status": "invalid"},
        ],
    )
    with session_scope(engine) as s:
        s.add(Reply(submission_id=ids[4], body="已处理", created_at=utcnow()))
    assert sorted(ids_on(client.get("/admin?state=answered").text)) == [ids[2], ids[3], ids[4]]
    assert sorted(ids_on(client.get("/admin?state=open").text)) == [ids[0], ids[1]]
    assert ids_on(client.get("/admin?state=overdue").text) == [ids[0]]
    assert ids_on(client.get("/admin?check=none").text) == [ids[1]]
    form = soup(client.get("/admin?state=overdue&check=none").text)
    assert form.select_one('select[name="state"] option[selected]')["value"] == "overdue"
    assert form.select_one('select[name="check"] option[selected]')["value"] == "none"


def test_date_range_is_local_and_inclusive(client: TestClient, chief: str, engine: Engine) -> None:
    # 2025-03-09 23:30 Beijing is 15:30 UTC: it belongs to the 9th, not the 10th.
    ids = insert_submissions(
        engine,
        rows=[
            {"at": datetime(2025, 3, 9, 15, 30, tzinfo=UTC)},
            {"at": datetime(2025, 3, 10, 15, 59, tzinfo=UTC)},  # 23:59 on the 10th
            {"at": datetime(2025, 3, 10, 16, 0, tzinfo=UTC)},  # 00:00 on the 11th
        ],
    )
    assert ids_on(client.get("/admin?from=2025-03-10&to=2025-03-10").text) == [ids[1]]
    assert ids_on(client.get("/admin?to=2025-03-09").text) == [ids[0]]
    assert ids_on(client.get("/admin?from=2025-03-11&sort=old").text) == [ids[2]]


def test_keyset_pages_cover_everything_once(client: TestClient, chief: str, engine: Engine) -> None:
    # Same timestamps in pairs: the id breaks ties so no row is skipped or repeated.
    rows = [{"at": ROW_TIME + timedelta(seconds=n // 2)} for n in range(120)]
    ids = insert_submissions(engine, rows=rows)
    for sort, expected in (("new", sorted(ids, reverse=True)), ("old", sorted(ids))):
        seen: list[int] = []
        url = f"/admin?sort={sort}"
        pages = 0
        while url:
            html = client.get(url).text
            got = ids_on(html)
            assert len(got) <= 50
            seen += got
            pages += 1
            nxt = soup(html).select_one("#next-page")
            url = str(nxt["href"]) if nxt else ""
            assert not url or (sort == "new") != ("sort=old" in url)
        assert seen == expected and pages == 3


def test_page_cursors_carry_no_time(client: TestClient, demo: None, engine: Engine) -> None:
    # 51 rows a few seconds apart: the next-page link names the last row shown, nothing else,
    # and a time in the URL (what a curious admin would bisect with) is refused.
    rows = [{"at": ROW_TIME + timedelta(seconds=7 * n, microseconds=n)} for n in range(51)]
    rows.append({"unit": "demo2"})
    ids = insert_submissions(engine, rows=rows)
    add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo")
    login(client, "rev", PASSWORD)
    html = client.get("/admin").text
    shown = ids_on(html)
    nxt = soup(html).select_one("#next-page")
    assert nxt is not None
    assert parse_qs(urlsplit(str(nxt["href"])).query) == {"after": [str(shown[-1])]}
    assert ids_on(client.get(str(nxt["href"])).text) == [ids[0]]
    micros = int((ROW_TIME - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)
    for after in (f"{micros}-{ids[3]}", str(micros), "0", str(ids[-1])):
        # ids[-1] is a row of demo2, which this reviewer may not see: no position from it.
        assert client.get(f"/admin?after={after}").status_code == 422, after


@pytest.mark.parametrize(
    "query",
    [
        "check=9",
        "check=abc",
        "status=done",
        "channel=fax",
        "role=校长",
        "anonymous=yes",
        "from=2025-13-01",
        "from=2025-03-02&to=2025-03-01",
        "sort=random",
        "state=late",
        "check=None",
        "after=xyz",
        "after=99999999999999999999-1",
        "unit=nowhere",
        "q=" + "长" * 101,
    ],
)
def test_bad_filters_are_a_clear_422(client: TestClient, chief: str, query: str) -> None:
    r = client.get("/admin?" + query)
    assert r.status_code == 422 and "<h1" in r.text


def test_exports_follow_the_filter(client: TestClient, chief: str, engine: Engine) -> None:
    insert_submissions(
        engine,
        rows=[
            {
                "check": 2,
                "text": '=HYPERLINK("http://evil")',
                "anonymous": False,
                "name": "李",
                "contact": "li@example.org",
            },
            {"check": 2, "text": "匿名的意见", "name": None},
            {"check": 4, "text": "不在筛选里"},
        ],
    )
    r = client.get("/admin/export.xlsx?check=2")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(r.content))
    sheet = book["全部意见"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    texts = sorted(str(v[5]) for v in values)
    assert texts == sorted(['\'=HYPERLINK("http://evil")', "匿名的意见"])
    named = next(v for v in values if str(v[5]).startswith("'="))
    assert named[10] == "李" and named[11] == "li@example.org"
    anonymous = next(v for v in values if v[5] == "匿名的意见")
    assert anonymous[10] is None and anonymous[11] is None
    c = client.get("/admin/export.csv?check=2")
    assert c.content.startswith(b"\xef\xbb\xbf") and c.headers["content-type"].startswith(
        "text/csv"
    )
    table = list(csv.reader(io.StringIO(c.content.decode("utf-8-sig"))))
    assert table[0][0] == "编号" and len(table) == 3
    with Session(engine) as s:
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "export")).all()) == 2


def test_exports_keep_times_to_the_minute(client: TestClient, chief: str, engine: Engine) -> None:
    # A row stored before times were cut to the minute: 10:00:37.654321 in Beijing.
    insert_submissions(engine, rows=[{"at": ROW_TIME + timedelta(seconds=37.654321)}])
    book = load_workbook(io.BytesIO(client.get("/admin/export.xlsx").content))
    (cell,) = [row[9] for row in book["全部意见"].iter_rows(min_row=2, values_only=True)]
    assert cell == datetime(2025, 3, 10, 10, 0)
    text = client.get("/admin/export.csv").content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[1][9] == "2025-03-10 10:00:00"


def test_bulk_actions(client: TestClient, chief: str, engine: Engine) -> None:
    ids = insert_submissions(engine, rows=[{}, {}, {}])
    rev = add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo")
    back = "check=&status=new"
    r = client.post(
        "/admin/bulk",
        data={"csrf": chief, "ids": ids[:2], "action": "retag", "value_retag": "5", "back": back},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?" + back
    client.post(
        "/admin/bulk",
        data={"csrf": chief, "ids": ids, "action": "assign", "value_assign": str(rev)},
    )
    client.post(
        "/admin/bulk",
        data={"csrf": chief, "ids": [ids[2]], "action": "status", "value_status": "invalid"},
    )
    with Session(engine) as s:
        subs = {x.id: x for x in s.exec(select(Submission)).all()}
        assert [subs[i].check for i in ids] == [5, 5, None]
        assert all(subs[i].assignee_id == rev for i in ids)
        assert [subs[i].status for i in ids] == ["forwarded", "forwarded", "invalid"]
        assert s.exec(select(AuditLog).where(AuditLog.action == "bulk")).all()
    # Nothing selected, or a forbidden jump: a clear error, nothing changed.
    r = client.post("/admin/bulk", data={"csrf": chief, "action": "status", "value_status": "new"})
    assert r.status_code == 422 and soup(r.text).select_one("#bulk-error")
    r = client.post(
        "/admin/bulk",
        data={"csrf": chief, "ids": ids, "action": "status", "value_status": "new"},
    )
    assert r.status_code == 422
    with Session(engine) as s:
        assert s.get(Submission, ids[0]).status == "forwarded"  # type: ignore[union-attr]


def test_bulk_needs_csrf(client: TestClient, chief: str, engine: Engine) -> None:
    ids = insert_submissions(engine, rows=[{}])
    form = {"ids": ids, "action": "status", "value_status": "closed"}
    assert client.post("/admin/bulk", data=form).status_code == 403
    assert client.post("/admin/bulk", data=form | {"csrf": "forged"}).status_code == 403
    evil = client.post(
        "/admin/bulk", data=form | {"csrf": chief}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    with Session(engine) as s:
        assert s.get(Submission, ids[0]).status == "new"  # type: ignore[union-attr]


def test_audit_page_filters(client: TestClient, chief: str, engine: Engine) -> None:
    ids = insert_submissions(
        engine, rows=[{"anonymous": False, "name": "赵六", "contact": "13800000000"}]
    )
    client.post(f"/admin/items/{ids[0]}/retag", data={"csrf": chief, "check": "2"})
    client.post(f"/admin/items/{ids[0]}/note", data={"csrf": chief, "body": "秘密备注内容"})
    page = client.get("/admin/audit?action=retag&actor=chief&unit=demo")
    assert page.status_code == 200
    rows = soup(page.text).select("#audit tbody tr")
    assert len(rows) == 1 and "重新归类" in rows[0].text and f"#{ids[0]}" in rows[0].text
    everything = client.get("/admin/audit").text
    for secret in ("赵六", "13800000000", "秘密备注内容"):
        assert secret not in everything
    assert client.get("/admin/audit?action=nonsense").status_code == 422
    today = datetime.now(UTC).date()
    old = (today - timedelta(days=30)).isoformat()
    assert "没有记录" in client.get(f"/admin/audit?to={old}").text
