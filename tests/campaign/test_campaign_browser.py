"""A resident on a phone: read the board, then evaluate with a printed one-time code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from app.campaign.service import EVALUATION, set_override
from app.core.db import session_scope
from app.intake.service import SubmissionInput
from app.models import Role
from tests.conftest import LiveServer
from tests.factories import measure_on_board


def test_board_and_evaluation_on_a_phone(
    browser: Any, live_server: LiveServer, engine: Engine
) -> None:
    letter = SubmissionInput(
        text="希望食堂公开每周菜谱和价格。", role=Role.parent.value, anonymous=True
    )
    uid, mid, codes = measure_on_board(engine, letter=letter, title="食堂每周公示菜谱", progress=60)
    with session_scope(engine) as s:
        set_override(s, unit_id=uid, channel=EVALUATION, is_open=True)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(live_server.url + "/u/demo/board")
    assert "整改公示" in page.title()
    assert "食堂每周公示菜谱" in (page.text_content(f"#measure-{mid}") or "")
    assert page.get_attribute(f"#measure-{mid} progress", "value") == "60"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click(f"#measure-{mid} summary")
    assert page.is_visible("text=希望食堂公开每周菜谱和价格。")

    page.click("text=参加群众评议")
    grouped = " ".join(codes[0][i : i + 4] for i in range(0, 16, 4))
    page.fill("#code", grouped.lower())
    page.click("button[type=submit]")
    page.wait_for_selector("#evaluate")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.check(f"input[name=rating_{mid}][value=basic]")
    page.fill(f"#comment_{mid}", "希望坚持下去")
    page.click("button[type=submit]")
    page.wait_for_selector("#evaluated")

    # The same printed code a second time is refused.
    page.goto(live_server.url + f"/u/demo/evaluate?code={codes[0]}")
    assert "已经使用过" in (page.text_content("#eval-error") or "")
    context.close()
