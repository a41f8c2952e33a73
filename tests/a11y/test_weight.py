"""The public form on a cheap phone: under 50 KB in all, and whole without any script."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.page_weight import measure
from tests.conftest import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BUDGET = 50 * 1024


def test_the_form_weighs_under_50_kb(browser: Browser, live_server: LiveServer) -> None:
    weight = measure(browser, live_server.url + "/u/demo", throttled=False)
    kinds = sorted(r["type"] for r in weight.resources)
    assert kinds == ["link", "navigation", "script"]  # the page, app.css, form.js; nothing else
    assert all(r["transfer"] > 0 for r in weight.resources)  # none came from a cache
    assert weight.transferred < BUDGET


def test_the_form_works_without_script(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, java_script_enabled=False, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(live_server.url + "/u/demo?big=1")
    # Without the script the name fields simply stay visible; nothing is missing or stuck.
    for field in ("#text", "#anonymous", "#name", "#contact", "#files", "button[type=submit]"):
        assert page.is_visible(field), field
    page.fill("#text", "建议在校门口增设护学岗。")
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    assert page.evaluate("document.documentElement.className") == "big"
    context.close()
