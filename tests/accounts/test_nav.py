"""The admin navigation: one <details> menu, its pages grouped by what a clerk does."""

from __future__ import annotations

from bs4 import Tag
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.models import AdminRole
from tests.factories import PASSWORD, add_admin
from tests.helpers import login, signed_in_admin, soup

BUREAU_PAGES = {
    "意见": ["意见", "录入"],
    "办理": ["整改措施", "摘要"],
    "活动": ["中层献策", "评议", "宣传材料"],
    "设置": ["邮箱", "审计日志", "用户", "修改密码"],
}
UNIT_PAGES = {
    "意见": ["意见", "录入"],
    "办理": ["整改措施"],
    "活动": ["中层献策", "评议", "宣传材料"],
    "设置": ["修改密码"],
}


def contains(groups: dict[str, list[str]], expected: dict[str, list[str]]) -> bool:
    """Each expected page under its group, in the expected order."""
    return all(
        [label for label in groups.get(name, []) if label in labels] == labels
        for name, labels in expected.items()
    )


def menu(html: str) -> dict[str, list[str]]:
    """The menu's groups and their links, as the page shows them."""
    details = soup(html).select_one("header details#admin-menu")
    assert isinstance(details, Tag), html
    assert details.find("summary") is not None and not details.has_attr("open")
    groups = details.select("nav .nav-group")
    return {
        group.select_one(".nav-group-name").get_text(strip=True): [  # type: ignore[union-attr]
            a.get_text(strip=True) for a in group.find_all("a")
        ]
        for group in groups
    }


def test_bureau_admin_menu_groups_every_page(
    client: TestClient, engine: Engine, demo: None
) -> None:
    signed_in_admin(client, engine)
    page = client.get("/admin/print")
    groups = menu(page.text)
    assert list(groups) == ["意见", "办理", "活动", "设置"]
    # Other features add their pages to these groups; these are the ones everyone has.
    assert contains(groups, BUREAU_PAGES)
    current = soup(page.text).select("#admin-menu a[aria-current=page]")
    assert [a["href"] for a in current] == ["/admin/print"]
    # Logging out stays inside the menu, so a phone shows nothing but the brand and one button.
    assert soup(page.text).select_one("#admin-menu form[action='/admin/logout']") is not None


def test_unit_admin_menu_leaves_out_bureau_pages(
    client: TestClient, engine: Engine, demo: None
) -> None:
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    login(client, "head", PASSWORD)
    groups = menu(client.get("/admin").text)
    assert contains(groups, UNIT_PAGES)
    bureau_only = {"摘要", "邮箱", "审计日志", "用户"}
    assert not bureau_only & {label for links in groups.values() for label in links}
