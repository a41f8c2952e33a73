"""Chromium on 360px phones, issue 16's whole case: an anonymous parent writes straight to the
bureau; the bureau forwards a masked copy to the school; the school asks a question, the parent
answers on the receipt page; a handler drafts, the unit admin approves; the parent rates it
不满意 and the item is handled again (重办) with a new promised date."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import select

from app.core.db import session_scope
from app.core.time import chinese_date, today_local
from app.models import AdminRole, Unit
from app.workdays.service import add_working_days
from tests.conftest import LiveServer
from tests.dialogue.test_dialogue_browser import open_receipt, watch
from tests.factories import PASSWORD, add_admin

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

SHOTS = Path("/tmp/e2e-shots")
PHONE: ViewportSize = {"width": 360, "height": 740}
TEXT = (
    "我是三年级二班王小明的家长，电话13912345678。"
    "班主任经常体罚学生，我家住在幸福小区3栋，希望教体局调查。"
)
# What no school account may ever read: the child's name, the class, the phone, the address.
SECRETS = ("王小明", "三年级二班", "13912345678", "幸福小区")
QUESTION = "请问体罚大约发生在哪几天？"
ANSWER = "上周一和周三的下午。"
REPLY = "已约谈班主任，并在全校重申禁止体罚。"
UNIT_ANSWER_DAYS = 10  # the school's promised answer time; the bureau keeps the default 5


def phone_page(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    return context.new_page()


def sign_in(browser: Browser, url: str, username: str) -> tuple[Page, list[str]]:
    page = phone_page(browser)
    errors = watch(page)
    page.goto(url + "/admin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue, #empty")
    return page, errors


def page_text(page: Page) -> str:
    return page.text_content("main") or page.text_content("body") or ""


def test_anonymous_letter_to_bureau_handled_by_school_and_reopened(
    browser: Browser, engine: Engine, live_server: LiveServer
) -> None:
    add_admin(engine, username="chief")
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    add_admin(engine, username="teacher", role=AdminRole.reviewer, unit_slug="demo")
    with session_scope(engine) as s:
        unit = s.exec(select(Unit).where(Unit.slug == "demo")).one()
        unit.answer_days = UNIT_ANSWER_DAYS
        s.add(unit)
    SHOTS.mkdir(exist_ok=True)
    url = live_server.url

    # The parent, anonymous, past the school.
    sender = phone_page(browser)
    sender_errors = watch(sender)
    sender.goto(url + "/u/demo")
    assert sender.is_checked("#anonymous")
    sender.check("input[name=role][value='家长']")
    sender.fill("#text", TEXT)
    sender.check("input[name=to][value=bureau]")
    sender.click("#intake button[type=submit]")
    sender.wait_for_selector("#receipt")
    receipt = (sender.text_content("#receipt") or "").strip()
    open_receipt(sender, url, receipt)
    assert "教体局" in (sender.text_content("#addressee") or "")
    first_due = sender.text_content("#due-on")
    assert first_due == chinese_date(add_working_days(today_local(), 5))

    # The school does not see it yet.
    head, head_errors = sign_in(browser, url, "head")
    assert head.is_visible("#empty")

    # The bureau proposes masks, the admin adjusts them and forwards the copy.
    chief, chief_errors = sign_in(browser, url, "chief")
    chief.click("#queue .excerpt a:has-text('体罚')")
    item_url = chief.url.split("?")[0]
    assert chief.text_content("#text") == TEXT
    chief.click("#bureau-item a")
    assert chief.text_content("#original") == TEXT
    proposed = chief.input_value("#masked_text")
    assert "〔姓名〕" in proposed and "〔班级〕" in proposed and "〔电话〕" in proposed
    assert "幸福小区3栋" in proposed  # an address is not proposed: the admin masks it
    chief.fill("#masked_text", proposed.replace("幸福小区3栋", "〔住址〕"))
    chief.click("#forward-form button[type=submit]")
    chief.wait_for_selector("#notice")
    assert "已把遮盖后的内容转给学校" in (chief.text_content("#bureau-item") or "")

    # The school reads only the masked copy, asks the parent and hands it to a teacher.
    head.goto(url + "/admin")
    assert head.locator("#queue li.item").count() == 1
    queue_text = head.text_content("#queue") or ""
    csv_link = head.get_attribute("#export-csv", "href") or ""
    head.goto(item_url)
    masked = head.text_content("#text") or ""
    assert "〔姓名〕" in masked and "〔住址〕" in masked and "体罚" in masked
    assert head.text_content("#sender") == "匿名"
    csv = head.request.get(url + csv_link)
    assert csv.ok and "〔姓名〕" in csv.text()
    # Nor by the bureau's forwarding page, the school's export or the item's files.
    refused = head.request.get(item_url + "/bureau/forward")
    assert refused.status == 403 and TEXT not in refused.text()
    for secret in SECRETS:
        assert secret not in queue_text and secret not in page_text(head)
        assert secret not in csv.text()
    head.fill("#question-body", QUESTION)
    head.click("#question-form button")
    head.wait_for_selector("#notice")
    head.select_option("#assign-form select[name=assignee]", label="teacher")
    head.click("#assign-form button")
    head.wait_for_selector("#notice")
    head.goto(url + "/admin/reply-settings")
    head.select_option("#unit-demo .signoff-form select[name=required]", label="需审核")
    head.click("#unit-demo .signoff-form button")
    head.wait_for_selector("#notice")

    # The parent sees the question on the receipt page and answers it.
    open_receipt(sender, url, receipt)
    assert sender.text_content("article.question .body") == QUESTION
    sender.fill("#message-text", ANSWER)
    sender.click("#message-form button")
    sender.wait_for_selector("#notice")
    assert sender.text_content("article.answer .body") == ANSWER

    # The teacher reads the answer and drafts the reply; it waits for the unit admin.
    teacher, teacher_errors = sign_in(browser, url, "teacher")
    teacher.goto(item_url)
    assert ANSWER in page_text(teacher)
    assert all(secret not in page_text(teacher) for secret in SECRETS)
    assert teacher.is_visible("#signoff-hint")
    teacher.fill("#reply-body", REPLY)
    teacher.click("#reply-form button[type=submit]")
    teacher.wait_for_selector("#notice")
    open_receipt(sender, url, receipt)
    assert REPLY not in page_text(sender)
    assert sender.is_visible("#no-reply")

    head.goto(item_url)
    head.click("#drafts .approve-form button")
    head.wait_for_selector("#notice")

    # The parent sees the approved reply and rates it 不满意.
    open_receipt(sender, url, receipt)
    reply_body = "article.reply:not(.question):not(.answer) .body"
    assert sender.text_content(reply_body) == REPLY
    sender.check("form.rate input[value=unsatisfied]")
    sender.fill("form.rate textarea", "班主任还在体罚。")
    sender.click("form.rate button")
    sender.wait_for_selector(".rated")
    assert "不满意" in (sender.text_content(".rated") or "")
    new_due = chinese_date(add_working_days(today_local(), UNIT_ANSWER_DAYS))
    assert sender.text_content("#due-on") == new_due != first_due
    assert sender.text_content("#status") == "已转办（不满意，重新办理）"
    # Anonymous: nothing to remove, so no 删除我的姓名和联系方式.
    assert sender.locator("#forget-form").count() == 0
    assert sender.evaluate("document.documentElement.scrollWidth") <= 360
    sender.screenshot(path=str(SHOTS / "receipt.png"), full_page=True)

    # Back in the school's queue, marked 重办, with the new date on the item.
    head.goto(url + "/admin?flag=reopened")
    assert head.locator("#queue li.item .reopened").count() == 1
    # 体罚 made it urgent: the flag is a label, not stretched to the tap target beside it.
    flag = head.locator("#queue li.item .urgent-flag").bounding_box()
    assert flag is not None and flag["height"] < 30
    head.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
    head.goto(item_url)
    assert (head.text_content("#status") or "").startswith("已转办（重办）")
    assert new_due in page_text(head)
    assert all(secret not in page_text(head) for secret in SECRETS)
    assert sender_errors == head_errors == chief_errors == teacher_errors == []
