"""Small helpers shared by tests."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

RECEIPT_RE = re.compile(r"^\d{4} \d{4} \d{4} \d{4}$")


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def form_key(html: str) -> str:
    field = soup(html).find("input", {"name": "key"})
    assert field is not None
    return str(field["value"])


def receipt_of(html: str) -> str:
    node = soup(html).find(id="receipt")
    assert node is not None, html
    value = node.get_text(strip=True)
    assert RECEIPT_RE.match(value), value
    return value
