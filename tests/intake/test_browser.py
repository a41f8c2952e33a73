"""A parent on a narrow phone: fill the form, keep the receipt, look it up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.conftest import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_phone_flow(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (Linux; Android 10) MicroMessenger/8.0.50 Mobile",
        locale="zh-CN",
    )
    page = context.new_page()
    page.goto(live_server.url + "/u/demo")
    assert page.title().startswith("示范县第一初级中学")
    # Anonymous is on by default and hides the name fields (JavaScript enhancement).
    assert page.is_checked("#anonymous")
    assert not page.is_visible("#name")
    page.check("input[name=role][value='离退休干部']")
    page.fill("#text", "建议学校每月开放一次食堂，让家长陪餐监督。")
    assert page.text_content("#counter") == str(len("建议学校每月开放一次食堂，让家长陪餐监督。"))
    # Nothing overflows the narrow screen horizontally.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    receipt = (page.text_content("#receipt") or "").strip()
    assert len(receipt.replace(" ", "")) == 16

    page.goto(live_server.url + "/r")
    page.fill("#receipt", receipt)
    page.click("button[type=submit]")
    page.wait_for_selector("#status")
    assert page.text_content("#status") == "新收"
    assert page.is_visible("#no-reply")
    context.close()
