"""The queue's handling marks: 直送教体局 / 学校上报 for the bureau, 退回, and 待受理超期 by
the acknowledgement time (ack_days), also on the 督办 page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import col

from app.core.db import session_scope
from app.deadlines.ack import last_late_day
from app.models import AdminRole, Unit
from tests.factories import PASSWORD, add_admin, insert_submissions
from tests.helpers import login, soup


@pytest.fixture
def staff(demo: None, engine: Engine) -> None:
    add_admin(engine, username="chief")
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")


def marked(client: TestClient, query: str = "") -> dict[int, list[str]]:
    page = client.get(f"/admin{query}")
    assert page.status_code == 200
    return {
        int(str(row["data-id"])): [b.get_text() for b in row.select(".badge.handling")]
        for row in soup(page.text).select("[data-id]")
    }


def test_the_bureau_sees_how_its_items_came_and_filters_by_it(
    client: TestClient, engine: Engine, staff: None
) -> None:
    now = datetime.now(UTC)
    direct, own = insert_submissions(
        engine, rows=[{"to_bureau": True, "at": now}, {"text": "校长收礼", "at": now}]
    )
    csrf = login(client, "head", PASSWORD)
    r = client.post(f"/admin/items/{own}/bureau/hand-up", data={"csrf": csrf, "reason": "涉及校长"})
    assert r.status_code == 200
    # The school is offered neither mark, and asking for one finds nothing.
    page = soup(client.get("/admin").text)
    assert [o["value"] for o in page.select("select[name=mark] option")] == [
        "", "forwarded", "returned", "unacked",
    ]
    assert marked(client, "?mark=direct") == {}
    login(client, "chief", PASSWORD)
    assert marked(client) == {direct: ["直送教体局"], own: ["学校上报"]}
    assert set(marked(client, "?mark=direct")) == {direct}
    assert set(marked(client, "?mark=handed_up")) == {own}
    bad = client.get("/admin?mark=nonsense")
    assert bad.status_code == 422 and "标记只能是" in bad.text


def test_items_nobody_acknowledged_in_time_are_marked_and_supervised(
    client: TestClient, engine: Engine, staff: None
) -> None:
    now = datetime.now(UTC)
    late, fresh, classified = insert_submissions(
        engine,
        rows=[
            {"text": "三周前收到"},  # ROW_TIME, long ago
            {"text": "刚收到", "at": now},
            {"text": "已分类", "status": "classified"},
        ],
    )
    login(client, "head", PASSWORD)
    assert marked(client)[late] == ["待受理超期"]
    assert marked(client)[fresh] == [] and marked(client)[classified] == []
    assert set(marked(client, "?mark=unacked")) == {late}
    login(client, "chief", PASSWORD)
    table = soup(client.get("/admin/supervision").text).find(id="unacked")
    assert table is not None
    rows = [tr.get_text(" ", strip=True) for tr in table.select("tbody tr")]
    assert len(rows) == 1 and rows[0].startswith(f"#{late}") and "三周前收到" in rows[0]
    # Yesterday's item is in time by one working day (the default), late by none.
    (yesterday,) = insert_submissions(engine, rows=[{"at": now - timedelta(days=1)}])
    assert set(marked(client, "?mark=unacked")) == {late}
    with session_scope(engine) as s:
        s.execute(update(Unit).where(col(Unit.slug) == "demo").values(ack_days=0))
    assert set(marked(client, "?mark=unacked")) == {late, yesterday}


@pytest.mark.parametrize(
    ("today", "ack_days", "last"),
    [
        (date(2026, 12, 9), 1, date(2026, 12, 7)),  # Monday's item was due Tuesday
        (date(2026, 12, 14), 1, date(2026, 12, 10)),  # Friday's and the weekend's: Monday
        (date(2026, 12, 14), 2, date(2026, 12, 9)),
        (date(2026, 12, 9), 0, date(2026, 12, 8)),  # 0: acknowledged the day it came
    ],
)
def test_the_last_day_an_item_could_come_and_be_late(
    today: date, ack_days: int, last: date
) -> None:
    assert last_late_day(today=today, ack_days=ack_days) == last


def test_the_school_sees_which_items_are_the_bureaus_masked_copies(
    client: TestClient, engine: Engine, staff: None
) -> None:
    now = datetime.now(UTC)
    copy, own = insert_submissions(
        engine,
        rows=[
            {"text": "举报", "to_bureau": True, "masked_text": "举报〔姓名〕", "at": now},
            {"text": "食堂", "at": now},
        ],
    )
    login(client, "head", PASSWORD)
    assert marked(client) == {copy: ["教育局转办"], own: []}
    assert set(marked(client, "?mark=forwarded")) == {copy}
    page = soup(client.get("/admin").text)
    option = page.select_one("select[name=mark] option[value=forwarded]")
    assert option is not None and option.get_text() == "教育局转办"
    # The bureau's own view is unchanged: its item is 直送教体局, not a 转办件 to it.
    login(client, "chief", PASSWORD)
    assert marked(client)[copy] == ["直送教体局"]
    assert marked(client, "?mark=forwarded") == {}
    options = soup(client.get("/admin").text).select("select[name=mark] option")
    assert "forwarded" not in [o["value"] for o in options]
