"""The item page of a two-problem letter on a 360px phone: the ranked concerns and the marked
sentences fit the width, and each mark shows its check's name, not only a colour."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.models import CHECK_NAMES, Submission
from tests.conftest import LiveServer
from tests.factories import PASSWORD, add_admin
from tests.review.test_concerns import LETTER

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_item_page_on_a_phone(
    browser: Browser, engine: Engine, demo: None, live_server: LiveServer, tmp_path: Path
) -> None:
    add_admin(engine)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True
    )
    page = context.new_page()
    page.goto(live_server.url + "/u/demo")
    page.check("input[name=role][value='家长']")
    page.fill("#text", LETTER)
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    with Session(engine) as s:
        sid = s.exec(select(col(Submission.id)).order_by(col(Submission.id).desc())).first()
    page.goto(live_server.url + "/admin")
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue")
    page.goto(f"{live_server.url}/admin/items/{sid}")
    page.wait_for_selector("#concerns")
    page.locator("#concerns").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "concerns-360.png"))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    marks = page.locator("#text mark.concern")
    assert marks.count() >= 2
    for i in range(marks.count()):
        mark = marks.nth(i)
        box = mark.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        after = mark.evaluate("m => getComputedStyle(m, '::after').content")
        assert CHECK_NAMES[int(mark.get_attribute("data-check") or "0")] in after
    assert (page.text_content("#text") or "") == LETTER
    context.close()
