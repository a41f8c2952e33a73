"""The queue by promised answer day: labels per row, sorting by due day, the due filter,
and state=overdue reading due_on (parsed from the HTML)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.time import local_midnight, today_local
from app.models import utcnow
from app.workdays.service import add_working_days
from tests.factories import insert_submissions
from tests.helpers import signed_in_admin, soup


def rows_on(html: str) -> list[tuple[int, str]]:
    """(id, due label) of each row; "" for rows without one."""
    out = []
    for li in soup(html).select("#queue li.item"):
        label = li.select_one(".due")
        out.append((int(li["data-id"]), label.get_text(strip=True) if label else ""))
    return out


def test_labels_sort_and_filters(engine: Engine, demo: None, client: TestClient) -> None:
    signed_in_admin(client, engine)
    today = today_local()
    long_ago = local_midnight(today - timedelta(days=30))
    ids = insert_submissions(
        engine,
        rows=[
            {"due_on": add_working_days(today, 4), "at": utcnow()},
            {"due_on": add_working_days(today, -2), "at": utcnow()},  # received today, late
            {"due_on": today, "at": utcnow()},
            {"due_on": add_working_days(today, 1), "at": utcnow()},
            # Received a month ago but extended: not overdue.
            {"due_on": add_working_days(today, 3), "at": long_ago},
            {"due_on": add_working_days(today, -5), "status": "replied"},  # answered
        ],
    )
    page = client.get("/admin?sort=due")
    assert page.status_code == 200
    assert rows_on(page.text) == [
        (ids[5], ""),
        (ids[1], "超期 2 天"),
        (ids[2], "今天到期"),
        (ids[3], "剩余 1 个工作日"),
        (ids[4], "剩余 3 个工作日"),
        (ids[0], "剩余 4 个工作日"),
    ]
    assert [i for i, _ in rows_on(client.get("/admin?due=overdue").text)] == [ids[1]]
    assert [i for i, _ in rows_on(client.get("/admin?due=today").text)] == [ids[2]]
    soon = client.get("/admin?due=soon&sort=due").text
    assert [i for i, _ in rows_on(soon)] == [ids[2], ids[3]]
    assert [i for i, _ in rows_on(client.get("/admin?state=overdue").text)] == [ids[1]]
    bad = client.get("/admin?due=tomorrow")
    assert bad.status_code == 422 and "today、soon 或 overdue" in bad.text
    # The filter stays in the export and paging links.
    link = soup(client.get("/admin?due=soon").text).select_one("#export-csv")
    assert link is not None and "due=soon" in str(link["href"])


def test_pages_sorted_by_due_day_follow_on(
    engine: Engine, demo: None, client: TestClient
) -> None:
    signed_in_admin(client, engine)
    today = today_local()
    ids = insert_submissions(
        engine, rows=[{"due_on": add_working_days(today, n % 7)} for n in range(60)]
    )
    first = client.get("/admin?sort=due").text
    more = soup(first).select_one("#next-page")
    assert more is not None
    second = client.get(str(more["href"])).text
    seen = [i for i, _ in rows_on(first)] + [i for i, _ in rows_on(second)]
    assert sorted(seen) == sorted(ids) and len(seen) == 60
    order = {sid: (n % 7, sid) for n, sid in enumerate(ids)}
    assert seen == sorted(seen, key=lambda sid: order[sid])
