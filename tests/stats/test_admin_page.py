"""/admin/stats: the figures on the page, its charts, its links to the queue, scope, xlsx."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from app.core.db import session_scope
from app.core.time import today_local
from app.models import CHECK_NAMES, AdminRole, Reply, Role
from tests.factories import PASSWORD, add_admin, insert_submissions
from tests.helpers import login, signed_in_admin, soup
from tests.stats import data
from tests.stats.data import FIRST, LAST, figures, in_period

SPAN = f"from={FIRST}&to={LAST}"
FIGURES = ("received", "answered", "closed", "open", "overdue")


@pytest.fixture
def items(engine: Engine, demo: None) -> list[data.Item]:
    made = data.make_items()
    data.store(engine, made)
    return made


def _table(page: BeautifulSoup, name: str) -> dict[str, dict[str, int]]:
    table = page.select_one(f"#table-{name}")
    assert table is not None
    return {
        str(tr["data-key"]): {f: int(tr.select_one(f"td.{f}").get_text()) for f in FIGURES}
        for tr in table.select("tbody tr")
    }


def _queue_count(client: TestClient, href: str) -> int:
    r = client.get(href)
    assert r.status_code == 200, r.text
    return len(soup(r.text).select("li.item"))


def test_every_figure_on_the_page_equals_an_independent_count(
    client: TestClient, engine: Engine, items: list[data.Item]
) -> None:
    signed_in_admin(client, engine)
    r = client.get(f"/admin/stats?{SPAN}")
    assert r.status_code == 200, r.text
    page = soup(r.text)
    today = today_local()
    mine = in_period(items)
    assert {f: int(page.select_one(f"#total-{f} .num").get_text()) for f in FIGURES} == figures(
        mine, today
    )
    rate = data.on_time_rate(mine, today)
    assert rate is not None
    assert page.select_one("#rate-on-time").get_text() == f"{rate * 100:.1f}%"
    assert page.select_one("#rate-satisfaction").get_text() == "暂无"
    by_check = _table(page, "check")
    for check in data.CHECKS:
        key = "none" if check is None else str(check)
        assert by_check[key] == figures([i for i in mine if i.check == check], today)
    by_role = _table(page, "role")
    for role in Role:
        assert by_role[role.value] == figures([i for i in mine if i.role == role.value], today)
    by_unit = _table(page, "unit")
    assert set(by_unit) == {"demo", "demo2"}
    for slug in by_unit:
        assert by_unit[slug] == figures([i for i in mine if i.unit == slug], today)
    heat = page.select_one("#table-heat")
    assert heat is not None
    demo_cells = [int(td.get_text()) for td in heat.select('tr[data-key="demo"] td')]
    assert demo_cells == [
        len([i for i in mine if i.unit == "demo" and i.check == c]) for c in data.CHECKS
    ]


def test_each_figure_links_to_the_queue_showing_those_items(
    client: TestClient, engine: Engine, items: list[data.Item]
) -> None:
    signed_in_admin(client, engine)
    page = soup(client.get(f"/admin/stats?{SPAN}").text)
    rows = (("3", "check"), ("none", "check"), ("web", "channel"), ("家长", "role"),
            ("demo2", "unit"))
    for key, row in rows:
        cells = page.select_one(f'#table-{row} tr[data-key="{key}"]')
        assert cells is not None
        for figure in FIGURES:  # the queue counts answered, open and overdue as we do
            link = cells.select_one(f"td.{figure} a")
            if link is None:  # a zero is not a link
                assert cells.select_one(f"td.{figure}").get_text(strip=True) == "0"
                continue
            href = str(link["href"])
            assert urlsplit(href).path == "/admin"
            assert parse_qs(urlsplit(href).query)["from"] == [str(FIRST)]
            # The queue shows 50 a page.
            assert _queue_count(client, href) == min(50, int(link.get_text())), href
    total = page.select_one("#total-received")
    assert total is not None and _queue_count(client, str(total["href"])) == min(
        50, len(in_period(items))
    )


def test_charts_are_inline_svg_that_parses_with_nothing_from_another_host(
    client: TestClient, engine: Engine, items: list[data.Item]
) -> None:
    signed_in_admin(client, engine)
    r = client.get(f"/admin/stats?{SPAN}")
    page = soup(r.text)
    # Parsed from the page's own text: an HTML parser would lower-case viewBox.
    svgs = re.findall(r"<svg .*?</svg>", r.text, flags=re.DOTALL)
    assert len(svgs) == 6  # trend, four bar charts, heat map
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.find("{http://www.w3.org/2000/svg}title") is not None
        assert "viewBox" in root.attrib
    assert page.select("script") == []
    assert "http://" not in r.text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    bars = page.select("#section-check svg a")
    assert [b.select_one("title").get_text().split("：")[0] for b in bars][:5] == [
        CHECK_NAMES[c] for c in (1, 2, 3, 4, 5)
    ]


def test_a_unit_admin_sees_only_their_unit(
    client: TestClient, engine: Engine, items: list[data.Item]
) -> None:
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    login(client, "head", PASSWORD)
    page = soup(client.get(f"/admin/stats?{SPAN}").text)
    mine = [i for i in in_period(items) if i.unit == "demo"]
    assert int(page.select_one("#total-received .num").get_text()) == len(mine)
    assert set(_table(page, "unit")) == {"demo"}
    assert page.select_one("#table-heat") is None
    r = client.get(f"/admin/stats?{SPAN}&unit=demo2")
    assert r.status_code == 422
    assert "无权" in r.text


def test_reviewers_may_not_open_the_page(client: TestClient, engine: Engine, demo: None) -> None:
    add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo")
    login(client, "rev", PASSWORD)
    assert client.get("/admin/stats").status_code == 403


@pytest.mark.parametrize(
    "query", ["from=2026-13-01", "from=2026-03-01&to=2026-02-01", "phase=abc", "phase=99999"]
)
def test_bad_input_is_a_clear_4xx(
    client: TestClient, engine: Engine, demo: None, query: str
) -> None:
    signed_in_admin(client, engine)
    r = client.get(f"/admin/stats?{query}")
    assert r.status_code in (404, 422), r.text
    assert "日期" in r.text or "阶段" in r.text


def test_the_default_period_is_the_current_campaign(
    client: TestClient, engine: Engine, demo: None
) -> None:
    signed_in_admin(client, engine)
    page = soup(client.get("/admin/stats").text)
    options = page.select("#phase option[value]")
    assert len(options) == 4  # 按日期 and the demo campaign's three phases
    phase = str(options[2]["value"])
    r = client.get(f"/admin/stats?phase={phase}")
    assert r.status_code == 200
    assert options[2].get_text().split("（")[1].rstrip("）") in r.text


def test_the_xlsx_holds_the_same_tables(
    client: TestClient, engine: Engine, items: list[data.Item]
) -> None:
    signed_in_admin(client, engine)
    r = client.get(f"/admin/stats.xlsx?{SPAN}")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["分组", "项目", "收到", "已答复", "已办结", "未答复", "超期"]
    today = today_local()
    mine = in_period(items)
    total = next(r for r in rows if r[0] == "合计")
    assert total[2:] == list(figures(mine, today).values())
    staff = next(r for r in rows if r[0] == "提出人身份" and r[1] == Role.staff.value)
    assert staff[2:] == list(
        figures([i for i in mine if i.role == Role.staff.value], today).values()
    )
    cell = next(r for r in rows if r[0] == "单位×五查：示范县实验小学" and r[1] == CHECK_NAMES[4])
    assert cell[2] == len([i for i in mine if i.unit == "demo2" and i.check == 4])


def test_a_new_item_or_reply_shows_on_the_next_view_despite_the_cache(
    client: TestClient, engine: Engine, demo: None
) -> None:
    signed_in_admin(client, engine)
    [first] = insert_submissions(engine, rows=[{"at": data.at_noon(FIRST)}])

    def total(figure: str) -> int:
        page = soup(client.get(f"/admin/stats?{SPAN}").text)
        return int(page.select_one(f"#total-{figure} .num").get_text())

    assert (total("received"), total("answered")) == (1, 0)
    insert_submissions(engine, rows=[{"at": data.at_noon(FIRST)}])
    assert total("received") == 2
    with session_scope(engine) as s:
        s.add(Reply(submission_id=first, body="已答复"))
    assert total("answered") == 1


def test_a_bureau_admin_can_narrow_to_one_unit_and_the_links_follow(
    client: TestClient, engine: Engine, items: list[data.Item]
) -> None:
    signed_in_admin(client, engine)
    page = soup(client.get(f"/admin/stats?{SPAN}&unit=demo2").text)
    mine = [i for i in in_period(items) if i.unit == "demo2"]
    assert _table(page, "check")["5"] == figures([i for i in mine if i.check == 5], today_local())
    link = page.select_one('#table-check tr[data-key="5"] td.received a')
    assert link is not None
    assert parse_qs(urlsplit(str(link["href"])).query)["unit"] == ["demo2"]
    assert _queue_count(client, str(link["href"])) == int(link.get_text())
