"""The markup behind the accessibility checks: every field labelled, errors announced and
tied to their fields, English and Chinese marked, and 大字 carried in the URL."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.a11y.pages import seed_site
from tests.factories import TEXT
from tests.helpers import soup


def _one(page: BeautifulSoup, selector: str) -> Tag:
    found = page.select_one(selector)
    assert found is not None, selector
    return found


def _labelled(page: BeautifulSoup) -> list[str]:
    """The fields of a page that no label names."""
    bare = []
    for field in page.select("input:not([type=hidden]), textarea, select"):
        wrapped = field.find_parent("label") is not None
        if not wrapped and not page.select(f"label[for='{field.get('id')}']"):
            bare.append(str(field.get("name")))
    return bare


def _tied(page: BeautifulSoup, field: str, error_id: str) -> None:
    """The field is marked invalid and described by the error, which is announced."""
    error = _one(page, f"#{error_id}")
    assert error.get("role") == "alert"
    target = _one(page, field)
    assert target.get("aria-invalid") == "true"
    group = target.find_parent("fieldset")
    described = target.get("aria-describedby") or (group and group.get("aria-describedby"))
    assert error_id in str(described).split()


def test_every_field_has_a_label(client: TestClient, engine: Engine, demo: None) -> None:
    site = seed_site(engine, "")
    for path in (
        "/u/demo",
        "/r",
        "/u/demo/evaluate",
        f"/u/demo/evaluate?code={site.codes[0]}",
        site.idea_path,
        "/admin/login",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert _labelled(soup(page.text)) == [], path


@pytest.mark.parametrize(
    ("fields", "selector"),
    [
        ({"text": "  ", "anonymous": "1"}, "#text"),
        ({"text": TEXT}, "#name"),  # named, with neither name nor contact
        ({"text": TEXT, "anonymous": "1", "role": "校长"}, "input[name=role]"),
    ],
)
def test_form_errors_are_tied_to_their_field(
    client: TestClient, demo: None, fields: dict[str, str], selector: str
) -> None:
    r = client.post("/u/demo", data=fields)
    assert r.status_code == 422
    page = soup(r.text)
    _tied(page, selector, "form-error")
    assert len(page.select("[aria-invalid]")) == len(page.select(selector))


def test_upload_errors_point_at_the_file_field(client: TestClient, demo: None) -> None:
    files = [("files", ("a.exe", b"MZ" * 100, "application/octet-stream"))]
    r = client.post("/u/demo", data={"text": TEXT, "anonymous": "1"}, files=files)
    assert r.status_code == 415
    _tied(soup(r.text), "#files", "form-error")


def test_other_errors_are_tied(client: TestClient, engine: Engine, demo: None) -> None:
    site = seed_site(engine, "")
    lookup = client.post("/r", data={"receipt": "12"})
    _tied(soup(lookup.text), "#receipt", "lookup-error")
    code = client.get("/u/demo/evaluate?code=AAAA")
    _tied(soup(code.text), "#code", "eval-error")
    ratings = client.post("/u/demo/evaluate", data={"code": site.codes[0]})
    assert ratings.status_code == 422
    _tied(soup(ratings.text), "#evaluate input[type=radio]", "eval-error")
    idea = client.post(site.idea_path, data={"text": " ", "key": "k" * 20})
    _tied(soup(idea.text), "#text", "form-error")
    login = client.post("/admin/login", data={"username": "chief", "password": "no", "next": "/"})
    _tied(soup(login.text), "#password", "login-error")


def test_mixed_language_is_marked(client: TestClient, demo: None) -> None:
    zh = soup(client.get("/u/demo").text)
    assert _one(zh, "html").get("lang") == "zh-CN"
    assert _one(zh, "a[hreflang=en]").get("lang") == "en"
    en = soup(client.get("/u/demo?lang=en").text)
    assert _one(en, "html").get("lang") == "en"
    # The school's own name stays Chinese inside the English page, as does the language link.
    assert _one(en, "h1").get("lang") == "zh-CN"
    assert _one(en, "a[hreflang=zh-CN]").get("lang") == "zh-CN"
    board = soup(client.get("/u/demo/board?lang=en").text)
    assert _one(board, "main > div").get("lang") == "zh-CN"  # the board is written in Chinese


def test_big_text_travels_in_the_url(client: TestClient, engine: Engine, demo: None) -> None:
    site = seed_site(engine, "")
    plain = client.get("/u/demo?a=parent")
    assert _one(soup(plain.text), "a.big-switch").get("href") == "/u/demo?a=parent&big=1"
    assert _one(soup(plain.text), "html").get("class") is None

    big = client.get("/u/demo?a=parent&big=1&lang=en")
    assert "set-cookie" not in big.headers
    page = soup(big.text)
    assert _one(page, "html").get("class") == ["big"]
    # Off again keeps the rest; every link and the form carry it on.
    assert _one(page, "a.big-switch").get("href") == "/u/demo?a=parent&lang=en"
    assert _one(page, "#intake").get("action") == "/u/demo?lang=en&big=1"
    assert _one(page, "a.brand").get("href") == "/?lang=en&big=1"
    assert _one(page, "a[href^='/r']").get("href") == "/r?lang=en&big=1"

    receipt = client.post("/u/demo?big=1", data={"text": TEXT, "anonymous": "1"})
    after = soup(receipt.text)
    assert _one(after, "html").get("class") == ["big"]
    assert _one(after, "a.button").get("href") == "/r?big=1"
    # No switch on an answer to a POST: following it would lose the receipt code.
    assert after.select("a.big-switch, a[hreflang]") == []

    code_form = soup(client.get("/u/demo/evaluate?big=1").text)
    kept = code_form.select("form.narrow input[type=hidden]")
    assert [(i["name"], i["value"]) for i in kept] == [("big", "1")]
    assert _one(code_form, "a[href$='/board?big=1']")
    idea = soup(client.get(site.idea_path + "?big=1").text)
    assert _one(idea, "#idea").get("action") == site.idea_path + "?big=1"
