"""The deadline pages, parsed from HTML: the item's panel, extension and approval, 催办,
the 督办 list, answer-time settings and the 工作日 calendar page."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.core.db import session_scope
from app.core.time import today_local
from app.models import AdminRole, Bureau, CalendarDay, Submission, Unit
from app.workdays.service import add_working_days
from tests.factories import PASSWORD, add_admin, add_submission, new_submission
from tests.helpers import login, signed_in_admin, soup


def item_due(engine: Engine, due: date, *, unit: str = "demo") -> int:
    with session_scope(engine) as s:
        sid = add_submission(s, new=new_submission(slug=unit))
        s.execute(update(Submission).where(col(Submission.id) == sid).values(due_on=due))
    return sid


def text_of(html: str, node_id: str) -> str:
    node = soup(html).find(id=node_id)
    assert node is not None, html
    return node.get_text(" ", strip=True)


def test_the_item_page_shows_the_promised_day_and_extends_once(
    engine: Engine, demo: None, client: TestClient
) -> None:
    csrf = signed_in_admin(client, engine)
    today = today_local()
    sid = item_due(engine, today)
    page = client.get(f"/admin/items/{sid}").text
    assert text_of(page, "due-on") == f"{today.year}年{today.month}月{today.day}日 今天到期"
    assert "还没有记录" in text_of(page, "timeline")
    bad = client.post(f"/admin/items/{sid}/deadline/extend",
                      data={"csrf": csrf, "extra_days": "abc", "reason": "复杂"})
    assert bad.status_code == 422 and "1 到 30" in bad.text
    done = client.post(f"/admin/items/{sid}/deadline/extend",
                       data={"csrf": csrf, "extra_days": "3", "reason": "需要现场核实"})
    assert done.status_code == 200 and done.url.query == b"done=extend"
    new_due = add_working_days(today, 3)
    page = done.text
    assert text_of(page, "due-on").startswith(f"{new_due.year}年{new_due.month}月{new_due.day}日")
    assert "需要现场核实" in text_of(page, "extension")
    assert soup(page).find(id="extend-form") is None  # once only
    entries = [li.get_text(" ", strip=True) for li in soup(page).select("#timeline li")]
    assert len(entries) == 1 and "chief" in entries[0] and "延期" in entries[0]
    again = client.post(f"/admin/items/{sid}/deadline/extend",
                        data={"csrf": csrf, "extra_days": "3", "reason": "再延"})
    assert again.status_code == 409


def test_a_schools_extension_waits_for_the_bureaus_approval(
    engine: Engine, demo: None, client: TestClient
) -> None:
    add_admin(engine, username="chief")
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    with session_scope(engine) as s:
        s.execute(update(Bureau).values(extension_needs_approval=True))
    due = today_local() + timedelta(days=3)
    sid = item_due(engine, due)
    csrf = login(client, "head", PASSWORD)
    r = client.post(f"/admin/items/{sid}/deadline/extend",
                    data={"csrf": csrf, "extra_days": "5", "reason": "涉及多个部门"})
    assert r.url.query == b"done=requested"
    assert "延期待审批" in text_of(r.text, "extension")
    assert soup(r.text).find(id="approve-form") is None  # not for a school admin
    refused = client.post(f"/admin/items/{sid}/deadline/approve", data={"csrf": csrf})
    assert refused.status_code == 403
    client.post("/admin/logout", data={"csrf": csrf})
    csrf = login(client, "chief", PASSWORD)
    page = client.get(f"/admin/items/{sid}").text
    assert soup(page).find(id="approve-form") is not None
    r = client.post(f"/admin/items/{sid}/deadline/approve", data={"csrf": csrf})
    assert r.url.query == b"done=approve" and "已延期" in text_of(r.text, "extension")
    labels = [li.find("strong").get_text() for li in soup(r.text).select("#timeline li")]
    assert labels == ["申请延期", "批准延期"]


def test_the_supervision_page_lists_overdue_items_of_every_school(
    engine: Engine, demo: None, client: TestClient
) -> None:
    csrf = signed_in_admin(client, engine)
    rev = add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo2")
    today = today_local()
    late = item_due(engine, add_working_days(today, -3), unit="demo2")
    with session_scope(engine) as s:
        s.execute(update(Submission).where(col(Submission.id) == late).values(assignee_id=rev))
    item_due(engine, add_working_days(today, 2))  # not overdue
    page = client.get("/admin/supervision").text
    rows = soup(page).select("#overdue tbody tr")
    assert len(rows) == 1
    cells = [td.get_text(strip=True) for td in rows[0].find_all("td")]
    assert cells[0] == f"#{late}" and cells[3] == "3" and cells[4] == "rev"
    with Session(engine) as s:
        unit = s.exec(select(Unit).where(Unit.slug == "demo2")).one()
    assert cells[1] == unit.name
    r = client.post(f"/admin/items/{late}/deadline/urge", data={"csrf": csrf, "note": "请今天答复"})
    assert r.url.query == b"done=urge"
    assert "催办" in text_of(r.text, "timeline") and "请今天答复" in text_of(r.text, "timeline")
    empty = client.post(f"/admin/items/{late}/deadline/urge", data={"csrf": csrf, "note": " "})
    assert empty.status_code == 422 and "催办意见" in empty.text


def test_answer_times_are_set_on_the_settings_page(
    engine: Engine, demo: None, client: TestClient
) -> None:
    csrf = signed_in_admin(client, engine)
    r = client.post("/admin/deadlines", data={"csrf": csrf, "unit": "demo", "answer_days": "10",
                                               "ack_days": "2"})
    assert r.url.query == b"done=saved"
    r = client.post("/admin/deadlines", data={"csrf": csrf, "answer_days": "5", "ack_days": "1",
                                               "approval": "1"})
    assert r.url.query == b"done=saved"
    form = soup(r.text).find(id="unit-demo")
    assert form is not None and form.find("input", {"name": "answer_days"})["value"] == "10"
    bad = client.post("/admin/deadlines", data={"csrf": csrf, "unit": "demo", "answer_days": "0",
                                                 "ack_days": "1"})
    assert bad.status_code == 422 and "1 到 60" in text_of(bad.text, "settings-error")
    with Session(engine) as s:
        unit = s.exec(select(Unit).where(Unit.slug == "demo")).one()
        bureau = s.exec(select(Bureau)).one()
    assert (unit.answer_days, unit.ack_days, bureau.extension_needs_approval) == (10, 2, True)


def test_the_calendar_page_adds_corrects_and_removes_days(
    engine: Engine, demo: None, client: TestClient
) -> None:
    csrf = signed_in_admin(client, engine)
    page = client.get("/admin/calendar?year=2027").text
    assert "还没有收录 2027" in text_of(page, "known")
    r = client.post("/admin/calendar", data={"csrf": csrf, "day": "2027-02-08", "kind": "rest",
                                              "note": "春节"})
    assert r.url.query == b"year=2027&done=set"
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")[:4]]
            for tr in soup(r.text).select("#days tbody tr")]
    assert rows == [["2027-02-08", "休息", "上班", "春节"]]
    bad = client.post("/admin/calendar", data={"csrf": csrf, "day": "2027-02-31", "kind": "rest"})
    assert bad.status_code == 422 and "年-月-日" in text_of(bad.text, "calendar-error")
    assert client.get("/admin/calendar?year=abc").status_code == 422
    r = client.post("/admin/calendar", data={"csrf": csrf, "day": "2027-02-08", "kind": "unset"})
    assert r.url.query == b"year=2027&done=unset"
    with Session(engine) as s:
        assert s.exec(select(CalendarDay)).all() == []


def test_school_admins_cannot_open_the_bureau_pages(
    engine: Engine, demo: None, client: TestClient
) -> None:
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    csrf = login(client, "head", PASSWORD)
    assert client.get("/admin/calendar").status_code == 403
    assert client.get("/admin/supervision").status_code == 403
    r = client.post("/admin/deadlines", data={"csrf": csrf, "unit": "demo2", "answer_days": "3",
                                               "ack_days": "1"})
    assert r.status_code == 404


def test_replied_closed_and_reopened_are_on_the_timeline(
    engine: Engine, demo: None, client: TestClient
) -> None:
    csrf = signed_in_admin(client, engine)
    sid = item_due(engine, today_local())
    client.post(f"/admin/items/{sid}/reply", data={"csrf": csrf, "body": "已安排整改"})
    client.post(f"/admin/items/{sid}/status", data={"csrf": csrf, "status": "closed"})
    page = client.post(f"/admin/items/{sid}/status", data={"csrf": csrf, "status": "forwarded"})
    steps = [
        (li.find("strong").get_text(), "chief" in li.get_text())
        for li in soup(page.text).select("#timeline li")
    ]
    assert steps == [("答复", True), ("办结", True), ("重新办理", True)]
    # Open again: the label is back.
    assert text_of(page.text, "due-on").endswith("今天到期")


def test_the_deadline_actions_need_a_login_and_the_csrf_token(
    engine: Engine, demo: None, client: TestClient
) -> None:
    sid = item_due(engine, today_local())
    for path in ("/admin/supervision", "/admin/deadlines", "/admin/calendar"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login"), path
    signed_in_admin(client, engine)
    for path, data in (
        (f"/admin/items/{sid}/deadline/extend", {"extra_days": "3", "reason": "复杂"}),
        (f"/admin/items/{sid}/deadline/urge", {"note": "快办"}),
        ("/admin/deadlines", {"answer_days": "3", "ack_days": "1"}),
        ("/admin/calendar", {"day": "2027-02-08", "kind": "rest"}),
    ):
        assert client.post(path, data={"csrf": "forged", **data}).status_code == 403, path
    with Session(engine) as s:
        sub = s.get(Submission, sid)
        assert sub is not None and sub.extension_status is None
        assert s.exec(select(CalendarDay)).all() == []
