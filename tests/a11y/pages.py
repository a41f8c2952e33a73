"""The pages under check: each public page (and the admin login and queue) reached in
Chromium as a person reaches it, by link, by form, or by a failed form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from app.campaign import roster
from app.campaign.service import EVALUATION, set_override
from app.core.db import session_scope
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, add_admin, measure_on_board, unit_id

if TYPE_CHECKING:
    from playwright.sync_api import Page

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass(frozen=True)
class Site:
    """What the pages need: the server's address, evaluation codes (the first is only
    looked at, the others used up from the end), an idea link."""

    url: str
    codes: list[str]
    idea_path: str


def seed_site(engine: Engine, url: str) -> Site:
    """A measure on the board with evaluation open, a roster person, and an admin."""
    uid, _, codes = measure_on_board(engine, title="食堂每周公示菜谱和价格", progress=60, codes=8)
    with session_scope(engine) as s:
        set_override(s, unit_id=uid, channel=EVALUATION, is_open=True)
        [person] = roster.add_people(
            s, unit_id=unit_id(s), rows=[("吴主任", "教科室主任", None)], secret=TEST_SECRET
        )
        idea_path = roster.idea_url(base_url="", secret=TEST_SECRET, person=person)
    add_admin(engine)
    return Site(url=url, codes=codes, idea_path=idea_path)


def _submit(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.click("button[type=submit]")


def _receipt(page: Page, site: Site, query: str) -> None:
    page.goto(f"{site.url}/u/demo{query}")
    _submit(page, "建议学校每月开放一次食堂，让家长陪餐监督。")
    page.wait_for_selector("#receipt")


def _form_error(page: Page, site: Site, query: str) -> None:
    page.goto(f"{site.url}/u/demo{query}")
    _submit(page, "   ")  # only spaces: the browser lets it through, the server refuses it
    page.wait_for_selector("#form-error")


def _slip(page: Page, site: Site, query: str) -> None:
    _receipt(page, site, query)
    page.click("#slip-form button")
    page.wait_for_load_state()


def _status(page: Page, site: Site, query: str) -> None:
    _receipt(page, site, query)
    code = page.text_content("#receipt") or ""
    page.goto(f"{site.url}/r{query}")
    page.fill("#receipt", code)
    page.click("button[type=submit]")
    page.wait_for_selector("#status")


def _lookup_error(page: Page, site: Site, query: str) -> None:
    page.goto(f"{site.url}/r{query}")
    page.fill("#receipt", "1234 5678 9012 3456")
    page.click("button[type=submit]")
    page.wait_for_selector("#lookup-error")


def _rating(page: Page, site: Site, query: str) -> None:
    join = "&" if query else "?"
    page.goto(f"{site.url}/u/demo/evaluate{query}{join}code={site.codes[0]}")
    page.wait_for_selector("#evaluate")


def _evaluated(page: Page, site: Site, query: str) -> None:
    join = "&" if query else "?"
    page.goto(f"{site.url}/u/demo/evaluate{query}{join}code={site.codes.pop()}")
    page.check("#evaluate input[type=radio] >> nth=0")
    page.click("button[type=submit]")
    page.wait_for_selector("#evaluated")


def _idea_receipt(page: Page, site: Site, query: str) -> None:
    page.goto(site.url + site.idea_path + query)
    _submit(page, "建议组建学科教研共同体。")
    page.wait_for_selector("#receipt")


def _login_error(page: Page, site: Site, query: str) -> None:
    page.goto(f"{site.url}/admin/login")
    page.fill("#username", "chief")
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error")


def _queue(page: Page, site: Site, query: str) -> None:
    page.goto(f"{site.url}/admin/login")
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin")


def _get(path: str) -> Callable[[Page, Site, str], None]:
    def go(page: Page, site: Site, query: str) -> None:
        page.goto(site.url + (path if path != "IDEA" else site.idea_path) + query)

    return go


# (name, how to get there, public: carries ?lang= and ?big=)
PAGES: list[tuple[str, Callable[[Page, Site, str], None], bool]] = [
    ("index", _get("/"), True),
    ("form", _get("/u/demo"), True),
    ("form with an error", _form_error, True),
    ("receipt", _receipt, True),
    ("receipt slip", _slip, True),
    ("lookup", _get("/r"), True),
    ("lookup with an error", _lookup_error, True),
    ("status", _status, True),
    ("board", _get("/u/demo/board"), True),
    ("answers", _get("/u/demo/answers"), True),
    ("evaluation code", _get("/u/demo/evaluate"), True),
    ("evaluation", _rating, True),
    ("evaluated", _evaluated, True),
    ("idea link", _get("IDEA"), True),
    ("idea receipt", _idea_receipt, True),
    ("not found", _get("/u/no-such-unit"), True),
    ("admin login", _get("/admin/login"), False),
    ("admin login with an error", _login_error, False),
    ("admin queue", _queue, False),
]


def visits(page: Page, site: Site, queries: list[str]) -> Iterator[str]:
    """Go to every page in each of these query variants; yields a name for each stop."""
    for name, go, public in PAGES:
        for query in queries if public else [""]:
            go(page, site, query)
            yield f"{name}{query}"
