"""The receipt slip: offered on the receipt page, printable, saved as a PNG image; it holds
the code, the unit, the day and the way back in, and nothing about the sender."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.core.time import today_local
from app.intake.slip import Slip
from tests.conftest import LiveServer
from tests.factories import post_form
from tests.helpers import receipt_of, soup

if TYPE_CHECKING:
    from playwright.sync_api import Browser

NAME = "王小明标记"
CONTACT = "13912345678"
BASE = "http://127.0.0.1:8000"  # the test settings' base_url


def named_receipt(client: TestClient) -> str:
    page = post_form(client, anonymous=False, name=NAME, contact=CONTACT)
    assert page.status_code == 200
    return receipt_of(page.text)


def png_of_page(html: str) -> bytes:
    image = soup(html).select_one("#slip-image")
    assert image is not None
    prefix = "data:image/png;base64,"
    source = str(image["src"])
    assert source.startswith(prefix)
    return base64.b64decode(source.removeprefix(prefix))


def check_png(data: bytes, tmp_path: Path, decode_png: Callable[[Path], list[str]]) -> None:
    """A real PNG, without text chunks, whose only QR code is the lookup page (not the code)."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width == 1080 and 800 < image.height < 2400
    assert not getattr(image, "text", {})
    path = tmp_path / "slip.png"
    path.write_bytes(data)
    assert decode_png(path) == [f"{BASE}/r"]


def test_receipt_page_offers_the_slip_by_post_and_reminds(client: TestClient, demo: None) -> None:
    page = post_form(client)
    receipt = receipt_of(page.text)
    html = soup(page.text)
    form = html.select_one("form#slip-form")
    assert form is not None and form["method"] == "post"
    assert str(form["action"]).startswith("/r/slip")
    hidden = form.select_one("input[type=hidden][name=receipt]")
    assert hidden is not None and hidden["value"] == receipt
    # The code is in no address on the page: links and actions carry no digits of it.
    addresses = [
        str(a.get("href", "")) + str(a.get("action", "")) for a in html.select("[href], [action]")
    ]
    assert not any(receipt.replace(" ", "")[:8] in a.replace(" ", "") for a in addresses)
    reminder = html.select_one("#leave-reminder")
    assert reminder is not None and "离开本页前" in reminder.get_text()


def test_slip_page_shows_code_unit_day_and_no_sender(
    client: TestClient,
    demo: None,
    tmp_path: Path,
    decode_png: Callable[[Path], list[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    receipt = named_receipt(client)
    with caplog.at_level(logging.INFO, logger="yijian.access"):
        r = client.post("/r/slip", data={"receipt": receipt})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    html = soup(r.text)
    assert html.select_one("#slip-code").get_text(strip=True) == receipt  # type: ignore[union-attr]
    assert html.select_one("#slip-unit").get_text(strip=True) == "示范县第一初级中学"  # type: ignore[union-attr]
    today = today_local()
    day = html.select_one("#slip-day").get_text(strip=True)  # type: ignore[union-attr]
    assert day == f"{today.year}年{today.month}月{today.day}日"
    assert html.select_one("#slip-url").get_text(strip=True) == f"{BASE}/r"  # type: ignore[union-attr]
    assert NAME not in r.text and CONTACT not in r.text
    # The day only: no clock time anywhere on the slip.
    assert ":" not in html.select_one("#slip").get_text().replace(f"{BASE}/r", "")  # type: ignore[union-attr]
    check_png(png_of_page(r.text), tmp_path, decode_png)
    # The access log names the route, never the code.
    logged = [record.getMessage() for record in caplog.records if record.name == "yijian.access"]
    assert any(line.startswith("POST /r/slip 200") for line in logged), logged
    assert not any(receipt.replace(" ", "")[:8] in line.replace(" ", "") for line in logged)


def test_slip_image_download(
    client: TestClient, demo: None, tmp_path: Path, decode_png: Callable[[Path], list[str]]
) -> None:
    receipt = named_receipt(client)
    # Typed without spaces, as a sender copies it from the slip, it works the same.
    r = client.post("/r/slip.png", data={"receipt": receipt.replace(" ", "")})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-disposition"].startswith("attachment")
    assert receipt.replace(" ", "") not in r.headers["content-disposition"]
    check_png(r.content, tmp_path, decode_png)


def test_slip_holds_nothing_about_the_sender() -> None:
    # What the service can hand a page or an image: adding a sender field fails here.
    assert [field.name for field in fields(Slip)] == [
        "code",
        "unit_name",
        "day",
        "lookup_url",
        "png",
    ]


@pytest.mark.parametrize(
    ("value", "status", "message"),
    [
        ("0000 0000 0000 0000", 404, "没有找到这个回执码对应的意见"),
        ("12345", 422, "回执码应为16位数字"),
        ("", 422, "回执码应为16位数字"),
    ],
)
def test_unknown_or_malformed_code(
    client: TestClient, demo: None, value: str, status: int, message: str
) -> None:
    r = client.post("/r/slip", data={"receipt": value})
    assert r.status_code == status and message in r.text
    png = client.post("/r/slip.png", data={"receipt": value})
    assert png.status_code == status and message in png.text


def test_slip_in_english(client: TestClient, demo: None) -> None:
    receipt = receipt_of(post_form(client).text)
    r = client.post("/r/slip?lang=en", data={"receipt": receipt})
    assert r.status_code == 200
    html = soup(r.text)
    assert html.select_one("#slip-title").get_text(strip=True) == "Receipt slip"  # type: ignore[union-attr]
    day = today_local()
    assert html.select_one("#slip-day").get_text(strip=True) == day.isoformat()  # type: ignore[union-attr]


def test_slip_in_chromium_on_a_phone(browser: Browser, live_server: LiveServer) -> None:
    """From the receipt to the slip on a 360 px phone: the image shows under the CSP, the
    page fits, and printing shows the slip alone."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, locale="zh-CN"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/u/demo")
    page.fill("#text", "建议食堂公开每周菜谱和价格。")
    page.click("button[type=submit]")
    receipt = (page.text_content("#receipt") or "").strip()
    page.click("#slip-form button")
    page.wait_for_selector("#slip")
    assert page.url == live_server.url + "/r/slip"
    assert (page.text_content("#slip-code") or "").strip() == receipt
    assert page.evaluate("document.querySelector('#slip-image').naturalWidth") == 1080
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.emulate_media(media="print")
    assert page.is_visible("#slip") and not page.is_visible("#slip-image")
    assert not page.is_visible("header.top")
    # A CSP refusal of the data: image would show here; the favicon's 404 is no error of ours.
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    context.close()
