"""The admin on a phone in Chromium: one menu, a one-line brand, no sideways scrolling at
360 px with the longest names, the item's actions one tap away; inline groups on a laptop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import select

from app.accounts.service import create_admin
from app.core.db import session_scope
from app.models import AdminRole, Bureau
from app.units.service import add_unit
from tests.conftest import LiveServer
from tests.factories import PASSWORD, add_admin, add_submission, new_submission

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LONG_UNIT = "某某省某某市某某县第二实验小学教育集团（北校区）"
LONG_SLUG = "mou-xian-di-er-shiyan-xiaoxue-jiaoyu-jituan-bei-xiaoqu"


def fill_long_names(engine: Engine) -> None:
    """A unit and a reviewer whose names make the widest filter and bulk-assign choices."""
    with session_scope(engine) as s:
        unit = add_unit(s, slug=LONG_SLUG, name=LONG_UNIT)
        bureau = s.exec(select(Bureau)).first()
        assert bureau is not None and bureau.id is not None and unit.id is not None
        create_admin(
            s,
            username="reviewer",
            password=PASSWORD,
            role=AdminRole.reviewer,
            bureau_id=bureau.id,
            unit_id=unit.id,
            display_name="欧阳长名字审核员同志",
        )
        add_submission(s, new=new_submission(slug=LONG_SLUG, text="校门口接送拥堵。" * 80))


def scroll_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_admin_on_a_phone_and_a_laptop(
    browser: Browser, engine: Engine, demo: None, live_server: LiveServer
) -> None:
    add_admin(engine)
    fill_long_names(engine)
    laptop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = laptop.new_page()
    page.goto(live_server.url + "/admin")
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue")
    # A laptop shows the groups inline: no menu button, every link visible at once.
    assert not page.is_visible("#admin-menu summary")
    assert page.locator("#admin-menu .nav-group a").count() >= 11
    assert all(link.is_visible() for link in page.locator("#admin-menu .nav-group a").all())
    assert page.locator("#admin-menu .nav-group-name").all_text_contents() == [
        "意见", "办理", "活动", "设置"
    ]  # fmt: skip

    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, locale="zh-CN"
    )
    # A Cookie read back is a valid SetCookieParam; Playwright types them apart.
    phone.add_cookies(laptop.cookies())  # type: ignore[arg-type]
    small = phone.new_page()
    small.goto(live_server.url + "/admin")
    # The brand's text on one line: a range over it has one box per line it spans.
    lines = small.locator("header .brand").evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
    )
    assert lines == 1
    # The menu is closed: the queue, not a wall of links, fills the first screen.
    assert small.is_visible("#admin-menu summary")
    assert not small.locator("#admin-menu .nav-group a").first.is_visible()
    assert (small.locator("#queue").bounding_box() or {"y": 1e9})["y"] < 740
    assert scroll_width(small) <= 360
    # Batch actions show once an opinion is ticked, and fit beside the longest names.
    assert not small.is_visible("#bulk-form .bulk-bar")
    small.check("#queue li.item:first-child input[name=ids]")
    assert small.is_visible("button[value=assign]")
    assert (
        small.locator("select[name=value_assign] option")
        .all_text_contents()[-1]
        .startswith("欧阳长名字审核员同志")
    )
    assert scroll_width(small) <= 360
    small.click("#filters summary")
    assert small.is_visible("select[name=unit]")
    assert scroll_width(small) <= 360
    # Filtered: the form and the counts stay shut (their summaries show), so the first
    # opinion is well within the first screen; the counts open with a tap.
    small.goto(live_server.url + "/admin?status=new")
    assert "已筛选" in (small.text_content("#filters summary") or "")
    assert not small.is_visible("select[name=unit]")
    assert not small.is_visible("#by-status")
    assert (small.locator("#queue li.item").first.bounding_box() or {"y": 1e9})["y"] < 740 / 2 + 100
    assert scroll_width(small) <= 360
    small.click("#overview summary")
    assert small.is_visible("#by-status a.on")
    small.goto(live_server.url + "/admin")
    small.click("#admin-menu summary")
    assert small.locator("#admin-menu a:has-text('宣传材料')").is_visible()
    assert scroll_width(small) <= 360
    small.click("#admin-menu a:has-text('宣传材料')")
    small.wait_for_url("**/admin/print")

    small.goto(live_server.url + "/admin")
    small.click("#queue li.item:has-text('校门口接送拥堵') .item-link")
    small.wait_for_selector("#text")
    assert scroll_width(small) <= 360
    # A long opinion pushes the forms far down; the jump links stay on screen.
    assert (small.locator("#reply-form").bounding_box() or {"y": 0})["y"] > 740
    small.click("#jump a[href='#reply-form']")
    small.wait_for_function(
        "document.querySelector('#reply-body').getBoundingClientRect().top < 740"
    )
    assert small.locator("#jump").is_visible()
    phone.close()
    laptop.close()
