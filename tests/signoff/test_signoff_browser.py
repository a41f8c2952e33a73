"""Chromium on a 360px phone: the bureau sets the 答复需审核 default, a school's setting
offers 跟随教育局默认 and says what holds now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from app.models import AdminRole
from tests.conftest import LiveServer
from tests.e2e.test_case_flow_browser import SHOTS, sign_in
from tests.factories import add_admin

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_the_bureau_default_and_a_schools_own_choice_on_a_phone(
    browser: Browser, engine: Engine, live_server: LiveServer
) -> None:
    add_admin(engine, username="chief")
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    SHOTS.mkdir(exist_ok=True)
    url = live_server.url
    chief, chief_errors = sign_in(browser, url, "chief")
    chief.goto(url + "/admin/reply-settings")
    chief.check("#signoff-default input[name=required]")
    chief.click("#signoff-default button")
    chief.wait_for_selector("#notice")
    assert chief.text_content("#unit-demo .signoff-state") == "现在：需审核"
    assert chief.evaluate("document.documentElement.scrollWidth") <= 360
    chief.screenshot(path=str(SHOTS / "signoff-settings.png"), full_page=True)

    head, head_errors = sign_in(browser, url, "head")
    head.goto(url + "/admin/reply-settings")
    assert head.locator("#signoff-default").count() == 0
    head.select_option("#unit-demo .signoff-form select[name=required]", label="不需审核")
    head.click("#unit-demo .signoff-form button")
    head.wait_for_selector("#notice")
    assert head.text_content("#unit-demo .signoff-state") == "现在：不需审核"
    assert chief_errors == [] and head_errors == []
