"""Chromium on a 360px phone: the school's queue marks the bureau's masked copy (教育局转办)
and filters by it; after the school returns it, the bureau's forward form starts from the
instruction and deadline it gave before."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from app.models import AdminRole
from tests.conftest import LiveServer
from tests.e2e.test_case_flow_browser import SHOTS, sign_in
from tests.factories import add_admin, insert_submissions

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_the_school_sees_the_bureaus_copy_and_the_bureau_forwards_again_from_its_last_words(
    browser: Browser, engine: Engine, live_server: LiveServer
) -> None:
    add_admin(engine, username="chief")
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    rows: list[dict[str, object]] = [
        {"text": "我是张伟，反映校长收受礼品", "to_bureau": True},
        {"text": "食堂太咸"},
    ]
    (sid, _) = insert_submissions(engine, rows=rows)
    SHOTS.mkdir(exist_ok=True)
    url = live_server.url
    chief, chief_errors = sign_in(browser, url, "chief")
    chief.goto(f"{url}/admin/items/{sid}/bureau/forward")
    chief.fill("#instruction", "请核实并于三日内答复")
    chief.fill("#due_days", "3")
    chief.click("#forward-form button[type=submit]")
    chief.wait_for_selector("#notice")

    head, head_errors = sign_in(browser, url, "head")
    row = head.locator(f"#queue [data-id='{sid}']")
    assert row.locator(".badge.handling").inner_text() == "教育局转办"
    assert head.locator("#queue li.item").count() == 2
    head.click("#filters summary")
    head.select_option("select[name=mark]", "forwarded")
    head.click(".filter-form button[type=submit]")
    head.wait_for_url("**mark=forwarded**")
    assert head.locator("#queue li.item").count() == 1
    assert head.evaluate("document.documentElement.scrollWidth") <= 360
    head.screenshot(path=str(SHOTS / "queue-forwarded.png"), full_page=True)
    head.goto(f"{url}/admin/items/{sid}")
    head.fill("#return-form input[name=reason]", "不属于本校职责")
    head.click("#return-form button[type=submit]")
    head.wait_for_selector("#queue, #empty")

    chief.goto(f"{url}/admin/items/{sid}/bureau/forward")
    assert chief.input_value("#instruction") == "请核实并于三日内答复"
    assert chief.input_value("#due_days") == "3"
    assert chief.is_visible("#previous-dispatch")
    button = chief.locator("#forward-form button[type=submit]").bounding_box()
    assert button is not None and button["height"] >= 44  # a thumb's target
    assert chief.evaluate("document.documentElement.scrollWidth") <= 360
    chief.screenshot(path=str(SHOTS / "forward-prefilled.png"), full_page=True)
    assert chief_errors == [] and head_errors == []
