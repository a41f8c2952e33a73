"""Chromium on a 360px phone: the sender opens the receipt, answers the office's question with a
photo, sees the reply and rates it 不满意; the admin sees the item reopened (重办)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tests.conftest import LiveServer
from tests.factories import PASSWORD, add_admin, jpeg_with_gps

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TEXT = "食堂的饭菜太咸了，希望改进。"


def watch(page: Page) -> list[str]:
    """Script and CSP errors, and failed loads, of a page."""
    errors: list[str] = []
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
    return errors


def open_receipt(phone: Page, url: str, receipt: str) -> None:
    phone.goto(url + "/r")
    phone.fill("#receipt", receipt)
    phone.click("button[type=submit]")
    phone.wait_for_selector("#status")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_sender_and_admin_dialogue(
    browser: Browser, engine: Engine, demo: None, live_server: LiveServer, tmp_path: Path
) -> None:
    add_admin(engine)
    sender = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, locale="zh-CN"
    )
    phone = sender.new_page()
    phone_errors = watch(phone)
    phone.goto(live_server.url + "/u/demo")
    phone.fill("#text", TEXT)
    phone.click("#intake button[type=submit]")
    phone.wait_for_selector("#receipt")
    receipt = (phone.text_content("#receipt") or "").strip()

    office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    admin = office.new_page()
    admin_errors = watch(admin)
    admin.goto(live_server.url + "/admin")
    admin.fill("#username", "chief")
    admin.fill("#password", PASSWORD)
    admin.click("button[type=submit]")
    admin.wait_for_selector("#queue")
    admin.click(f"#queue .excerpt a:has-text('{TEXT[:6]}')")
    admin.fill("#question-body", "请问是哪个年级的窗口？")
    admin.click("#question-form button")
    admin.wait_for_selector("#notice")
    item_url = admin.url.split("?")[0]

    open_receipt(phone, live_server.url, receipt)
    assert phone.text_content("article.question .body") == "请问是哪个年级的窗口？"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_gps())
    phone.fill("#message-text", "三年级的窗口。")
    phone.set_input_files("#message-files", str(photo))
    phone.click("#message-form button")
    phone.wait_for_selector("#notice")
    assert phone.text_content("article.answer .body") == "三年级的窗口。"
    assert "1" in (phone.text_content("article.answer .meta") or "")

    admin.goto(live_server.url + "/admin?flag=unread")
    assert admin.locator("#queue li.item .unread").count() == 1
    admin.goto(item_url)
    assert admin.locator("#files li").count() == 1
    admin.fill("#reply-body", "已请食堂少放盐。")
    admin.click("#reply-form button")
    admin.wait_for_selector("#notice")

    open_receipt(phone, live_server.url, receipt)
    assert "少放盐" in (phone.text_content("article.reply:not(.question):not(.answer) .body") or "")
    phone.check("form.rate input[value=unsatisfied]")
    phone.fill("form.rate textarea", "还是很咸")
    phone.click("form.rate button")
    phone.wait_for_selector(".rated")
    assert "不满意" in (phone.text_content(".rated") or "")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    admin.goto(live_server.url + "/admin?flag=reopened")
    assert admin.locator("#queue li.item .reopened").count() == 1
    admin.goto(item_url)
    assert (admin.text_content("#status") or "").startswith("新收（重办）")
    assert "还是很咸" in (admin.text_content("#thread ~ article.reply .comment") or "")
    assert phone_errors == [] and admin_errors == []
    sender.close()
    office.close()
