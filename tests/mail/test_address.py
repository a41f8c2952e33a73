"""One rule for email addresses: named senders' contacts, roster emails, digest recipients."""

from __future__ import annotations

import pytest

from app.mail.address import MAX_ADDRESS, is_email_address


@pytest.mark.parametrize(
    "value",
    ["wang@example.test", "li.ming+school@mail.163.com", "家长@学校.中国", "a@b-c.de"],
)
def test_addresses_we_send_to(value: str) -> None:
    assert is_email_address(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "wang",
        "wang@example",  # no domain label after a dot
        "wang@example.c",  # one-letter top-level label
        "wang @example.test",
        "<wang@example.test>",
        "wang@example.test, li@example.test",
        "a;b@example.test",
        "wang@@example.test",
        "wang@example..test",
        "wang@.example.test",
        "\"wang\"@example.test",
        " wang@example.test",
        "x" * (MAX_ADDRESS - len("@example.test") + 1) + "@example.test",
    ],
)
def test_what_is_refused(value: str) -> None:
    assert not is_email_address(value)

