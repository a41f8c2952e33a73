"""An admin in Chromium: a parent's suggestion in, filtered, re-tagged, answered; the parent
sees the answer with their receipt. Then the same queue on a 360px phone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tests.conftest import LiveServer
from tests.factories import PASSWORD, add_admin

if TYPE_CHECKING:
    from playwright.sync_api import Browser

TEXT = "建议食堂公开每周菜谱和价格，接受家长监督。"


def test_admin_flow(browser: Browser, engine: Engine, demo: None, live_server: LiveServer) -> None:
    add_admin(engine)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    # CSP violations and script errors show up on the console; failed loads as responses.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(r.url) if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
        ),
    )

    page.goto(live_server.url + "/u/demo")
    page.check("input[name=role][value='家长']")
    page.fill("#text", TEXT)
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    receipt = (page.text_content("#receipt") or "").strip()

    page.goto(live_server.url + "/admin")
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue")
    # Filter by status through the form: the choice lands in the URL.
    page.click("#filters summary")
    page.select_option("select[name=status]", "new")
    page.click(".filter-form button[type=submit]")
    page.wait_for_url("**/admin?*status=new*")
    page.click(f"#queue .excerpt a:has-text('{TEXT[:8]}')")
    page.wait_for_selector("#text")
    assert page.text_content("#text") == TEXT

    page.select_option("#retag-form select[name=check]", "3")
    page.click("#retag-form button")
    page.wait_for_selector("#notice")
    assert "工作作风" in (page.text_content("#check") or "")

    # Filter by the check via its card; the item is there.
    page.goto(live_server.url + "/admin")
    page.click("#by-check a:has-text('工作作风')")
    page.wait_for_url("**/admin?check=3")
    assert page.locator("#queue li.item").count() == 1
    # "Select all" comes from static/admin.js (no inline scripts under the CSP).
    page.check("#select-all")
    assert page.locator("#queue input[name=ids]:checked").count() == 1
    page.click("#queue .item-link")
    page.wait_for_selector("#reply-form")
    page.fill("#reply-body", "下周起每周一在校门口和公众号公示菜谱和价格。")
    page.click("#reply-form button")
    page.wait_for_selector("#notice")
    assert (page.text_content("#status") or "").startswith("已答复")
    assert errors == []

    parent = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, locale="zh-CN"
    )
    phone = parent.new_page()
    phone.goto(live_server.url + "/r")
    phone.fill("#receipt", receipt)
    phone.click("button[type=submit]")
    phone.wait_for_selector("#status")
    assert phone.text_content("#status") == "已答复"
    assert "公示菜谱" in (phone.text_content(".reply .body") or "")
    parent.close()

    # The queue and the item page fit a 360px phone without sideways scrolling.
    narrow = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, locale="zh-CN"
    )
    # A Cookie read back is a valid SetCookieParam; Playwright types them apart.
    narrow.add_cookies(context.cookies())  # type: ignore[arg-type]
    small = narrow.new_page()
    for path in ("/admin", "/admin?check=3"):
        small.goto(live_server.url + path)
        assert small.evaluate("document.documentElement.scrollWidth") <= 360, path
    small.click("#queue .item-link")
    small.wait_for_selector("#text")
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    narrow.close()
    context.close()
