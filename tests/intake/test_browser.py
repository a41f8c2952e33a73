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


def test_addressee_choice_is_as_easy_to_tap_as_the_roles(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(live_server.url + "/u/demo")
    style = "e => [getComputedStyle(e).borderTopWidth, getComputedStyle(e).borderRadius]"
    role = page.locator("fieldset.roles label").first
    unit, bureau = (
        page.locator(f"label:has(input[name=to][value={v}])") for v in ("unit", "bureau")
    )
    boxes = [unit.bounding_box(), bureau.bounding_box()]
    for label, box in zip((unit, bureau), boxes, strict=True):
        assert box is not None and box.get("height", 0) >= 44
        assert box["x"] + box["width"] <= 360
        assert label.evaluate(style) == role.evaluate(style)
    first, second = boxes
    assert first is not None and second is not None
    # A thumb must not hit the other choice: a gap like the role pills' between the two.
    apart_x = second["x"] - (first["x"] + first["width"])
    apart_y = second["y"] - (first["y"] + first["height"])
    assert max(apart_x, apart_y) >= 6
    page.tap("label:has(input[name=to][value=bureau])")
    assert page.is_checked("input[name=to][value=bureau]")
    context.close()
