"""WCAG 2.1 AA in Chromium: axe-core on every public page, the admin login and the queue;
tap targets, reflow at 320 px and at 200% zoom, visible focus and keyboard use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from sqlalchemy import Engine

from tests.a11y.pages import WCAG_AA, seed_site, visits
from tests.conftest import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
}
# Controls a finger has to hit. A radio or checkbox is hit through its label, which is
# measured instead; hidden controls (the name fields while anonymous) are skipped.
TARGETS = """
() => {
  const out = [];
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), textarea, select, summary')) {
    const box = (el.type === 'radio' || el.type === 'checkbox') && el.closest('label')
      ? el.closest('label') : el;
    const r = box.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.classList.contains('skip')) continue;
    if (r.width < 44 || r.height < 44)
      out.push(`${el.tagName} ${el.id || el.name || el.textContent.trim().slice(0, 12)} `
        + `${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}
"""
# Sideways scrolling of the page, or text running out of its own box (the unwrapped receipt
# code): what sticks out, by how many pixels.
OVERFLOW = """
() => {
  const root = document.documentElement, out = [];
  if (root.scrollWidth > root.clientWidth) out.push(`page ${root.scrollWidth - root.clientWidth}`);
  for (const el of document.querySelectorAll('main *:not(textarea):not(input):not(select)'))
    if (el.clientWidth && el.scrollWidth > el.clientWidth + 1)
      out.push(`${el.tagName}#${el.id} ${el.scrollWidth - el.clientWidth}`);
  return out;
}
"""


def _serious(results: Any) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_every_page_passes_axe(browser: Browser, live_server: LiveServer, engine: Engine) -> None:
    site = seed_site(engine, live_server.url)
    axe = Axe()
    # axe is injected as a script: allowed past the page's strict CSP for the check only.
    context = browser.new_context(**PHONE, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    failures = {}
    for stop in visits(page, site, ["", "?lang=en", "?big=1"]):
        found = _serious(axe.run(page, options={"runOnly": WCAG_AA}))
        if found:
            failures[stop] = found
    context.close()
    assert failures == {}


@pytest.mark.parametrize(
    "profile",
    [
        pytest.param({"viewport": {"width": 320, "height": 640}, "is_mobile": True}, id="320px"),
        # 200% zoom of a 1280 px window: 640 CSS pixels at two device pixels each.
        pytest.param(
            {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2}, id="zoom200"
        ),
    ],
)
def test_no_sideways_scrolling_and_big_targets(
    browser: Browser, live_server: LiveServer, engine: Engine, profile: dict[str, Any]
) -> None:
    site = seed_site(engine, live_server.url)
    context = browser.new_context(**profile, has_touch=True, locale="zh-CN")
    page = context.new_page()
    wide, small = {}, {}
    for stop in visits(page, site, ["", "?big=1"]):
        if extra := page.evaluate(OVERFLOW):
            wide[stop] = extra
        # The queue is a desk page, dense by design (admin.css); the login is public-styled.
        if stop != "admin queue" and (found := page.evaluate(TARGETS)):
            small[stop] = found
    context.close()
    assert wide == {}
    assert small == {}


def _focus_ring(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.activeElement).outlineStyle"))


def test_the_form_by_keyboard_alone(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/u/demo")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert _focus_ring(page) == "solid"
    page.keyboard.press("Enter")  # skip the header
    seen = []
    for _ in range(20):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "document.activeElement.id || document.activeElement.name"
                " || document.activeElement.tagName"
            )
        )
        assert _focus_ring(page) == "solid", seen[-1]
        if seen[-1] == "text":
            break
    assert seen[:2] == ["SUMMARY", "role"], seen  # from the skip link into the page's content
    page.keyboard.type("建议把校门口的斑马线重新画一遍。")
    while page.evaluate("document.activeElement.tagName") != "BUTTON":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#receipt")
    context.close()
