"""The stats pages on a 360 px phone: nothing wider than the screen but the scrolling tables,
charts drawn at full width, nothing blocked by the Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from sqlalchemy import Engine

from tests.a11y.pages import WCAG_AA
from tests.conftest import LiveServer
from tests.factories import PASSWORD, add_admin
from tests.stats import data
from tests.stats.data import FIRST, LAST


def test_stats_pages_fit_a_phone(
    browser: Any, live_server: LiveServer, engine: Engine, tmp_path: Path
) -> None:
    shots = tmp_path
    data.store(engine, data.make_items())
    add_admin(engine, username="chief")
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    errors: list[str] = []
    # What the Content-Security-Policy blocks (an inline style or script) shows up here.
    page.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)
    page.goto(live_server.url + "/admin/login")
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + f"/admin/stats?from={FIRST}&to={LAST}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    width = page.evaluate(
        "document.querySelector('#section-check svg').getBoundingClientRect().width"
    )
    assert 300 <= width <= 360
    # Bar labels stay readable: at least 11 px on screen.
    font = page.evaluate(
        "document.querySelector('#section-check svg a text').getBoundingClientRect().height"
    )
    assert font >= 11
    page.screenshot(path=str(shots / "stats-360.png"), full_page=True)
    page.click("#section-check svg a >> nth=2")
    assert page.url.startswith(live_server.url + "/admin?check=3")
    page.goto(live_server.url + "/u/demo/stats")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(live_server.url + "/stats")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert errors == []
    context.close()


def test_stats_pages_pass_axe(browser: Any, live_server: LiveServer, engine: Engine) -> None:
    data.store(engine, data.make_items())
    add_admin(engine, username="chief")
    # axe is injected as a script: allowed past the page's strict CSP for the check only.
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, locale="zh-CN", bypass_csp=True
    )
    page = context.new_page()
    page.goto(live_server.url + "/admin/login")
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    axe = Axe()
    failures = {}
    for path in (f"/admin/stats?from={FIRST}&to={LAST}", "/u/demo/stats", "/stats"):
        page.goto(live_server.url + path)
        result = axe.run(page, options={"runOnly": WCAG_AA})
        found = [
            f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if found:
            failures[path] = found
    context.close()
    assert failures == {}
