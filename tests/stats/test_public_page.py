"""公开统计 pages: figures equal independent counts, small cells hidden, nothing identifying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.core.db import session_scope
from app.core.time import TZ, today_local
from app.models import CHECK_NAMES, UNTAGGED_LABEL
from app.stats.disclosure import FEW, HIDDEN
from tests.factories import add_measure, insert_submissions, unit_id
from tests.helpers import soup
from tests.stats.test_disclosure import _possible

MARKER = "秘密署名王五"
# Items per check in the demo unit (check None: not tagged yet): 1–4 must be hidden.
DEMO = {1: 3, 2: 0, 3: 7, 4: 1, 5: 12, 0: 0, None: 6}
DEMO2 = {1: 5, 2: 2, 3: 0, 4: 0, 5: 9, 0: 1, None: 0}
ORDER = (1, 2, 3, 4, 5, 0, None)


def _label(check: int | None) -> str:
    return UNTAGGED_LABEL if check is None else CHECK_NAMES[check]


@pytest.fixture
def seeded(engine: Engine, demo: None) -> None:
    # Inside the demo campaign, which starts today: this morning, China time.
    morning = datetime.combine(today_local(), datetime.min.time(), TZ) + timedelta(hours=8)
    rows: list[dict[str, object]] = []
    for slug, counts in (("demo", DEMO), ("demo2", DEMO2)):
        for check, n in counts.items():
            for k in range(n):
                named = k == 0 and check == 4
                rows.append(
                    {
                        "unit": slug,
                        "check": check,
                        "anonymous": not named,
                        "name": MARKER if named else None,
                        "status": "replied" if k % 3 == 0 else "new",
                        "at": morning.astimezone(UTC) + timedelta(minutes=len(rows)),
                    }
                )
    insert_submissions(engine, rows=rows)
    with session_scope(engine) as s:
        add_measure(s, unit_id=unit_id(s), title="食堂公示菜谱", progress=40)


def _checks(page: BeautifulSoup) -> dict[str, str]:
    return {tr.th.get_text(): tr.td.get_text() for tr in page.select("#public-checks tbody tr")}


def test_a_units_page_shows_its_counts_with_small_cells_hidden(
    client: TestClient, seeded: None
) -> None:
    r = client.get("/u/demo/stats")
    assert r.status_code == 200
    page = soup(r.text)
    total = sum(DEMO.values())
    answered = sum((n + 2) // 3 for n in DEMO.values())  # every third item, from the first
    assert page.select_one("#received").get_text() == str(total)
    assert page.select_one("#answered").get_text() == str(answered)
    assert page.select_one("#on-time").get_text() == "100.0%"  # nothing is overdue yet
    assert page.select_one("#satisfaction").get_text() == "暂无"
    shown = _checks(page)
    assert list(shown) == [_label(c) for c in ORDER]
    for check in ORDER:
        n = DEMO[check]
        text = shown[_label(check)]
        if 1 <= n <= 4:
            assert text == FEW
        else:
            assert text in (str(n), FEW, HIDDEN)
    # Subtraction gives nothing away: every hidden cell can still take two values or more.
    texts = [shown[_label(c)] for c in ORDER]
    for text, options in zip(texts, _possible(texts, str(total)), strict=True):
        if text in (FEW, HIDDEN):
            assert len(options) >= 2
    assert [td.get_text() for td in page.select("#public-measures tbody tr td")][:2] == [
        "进行中",
        "40%",
    ]
    assert MARKER not in r.text
    assert "少于5" in page.select_one("#public-rules").get_text()
    link = page.select_one("#bureau-stats-link")
    assert link is not None and link["href"] == "/stats"


def test_the_bureau_page_adds_up_the_units_without_undoing_their_suppression(
    client: TestClient, seeded: None
) -> None:
    r = client.get("/stats")
    assert r.status_code == 200
    page = soup(r.text)
    assert page.select_one("#received").get_text() == str(sum(DEMO.values()) + sum(DEMO2.values()))
    shown = _checks(page)
    demo = _checks(soup(client.get("/u/demo/stats").text))
    demo2 = _checks(soup(client.get("/u/demo2/stats").text))
    for check in ORDER:
        label = _label(check)
        visible = [int(t) for t in (demo[label], demo2[label]) if t.isdigit()]
        if len(visible) == 2:
            assert shown[label] == str(DEMO[check] + DEMO2[check])
        else:
            # Only what the unit pages already show: the bureau figure minus them is nothing new.
            assert shown[label] == f"至少 {sum(visible)}"
    units = {
        tr["data-slug"]: [td.get_text() for td in tr.select("td")]
        for tr in page.select("#public-units tbody tr")
    }
    assert units["demo"][:2] == [
        str(sum(DEMO.values())),
        str(sum((n + 2) // 3 for n in DEMO.values())),
    ]
    assert units["demo"][2:4] == ["1", "0"]
    assert MARKER not in r.text


def test_an_unknown_unit_is_a_404(client: TestClient, demo: None) -> None:
    r = client.get("/u/nowhere/stats")
    assert r.status_code == 404
    assert "没有找到" in r.text


def test_the_board_links_to_the_stats(client: TestClient, demo: None, session: Session) -> None:
    link = soup(client.get("/u/demo/board").text).select_one("#stats-link")
    assert link is not None and link["href"] == "/u/demo/stats"
