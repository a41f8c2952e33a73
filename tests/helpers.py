"""Reading what the app answers (pages, receipts, sent mail) and driving its pages (login).
Test data is built in tests/factories.py."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import TypeVar

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.db import make_engine
from tests.factories import PASSWORD, add_admin
from tests.servers.smtp import SmtpServer

T = TypeVar("T")
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


def csrf_of(html: str) -> str:
    field = soup(html).find("input", {"name": "csrf"})
    assert field is not None, html
    return str(field["value"])


def login(client: TestClient, username: str, password: str) -> str:
    """Log in through the form; returns the page's CSRF token."""
    r = client.post(
        "/admin/login",
        data={"username": username, "password": password, "next": "/admin"},
    )
    assert r.status_code == 200 and r.url.path == "/admin", r.text
    return csrf_of(r.text)


def signed_in_admin(client: TestClient, engine: Engine, *, username: str = "chief") -> str:
    """A new bureau admin (tests.factories.add_admin), logged in on the client; returns the
    page's CSRF token."""
    add_admin(engine, username=username)
    return login(client, username, PASSWORD)


def parsed_mail(data: bytes) -> EmailMessage:
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def sent_message(server: SmtpServer, index: int = 0) -> EmailMessage:
    """A message the test SMTP server accepted, parsed."""
    return parsed_mail(server.messages[index].data)


def plain_text(msg: EmailMessage) -> str:
    """The text/plain body of a message."""
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())



def as_processes(database_url: str, n: int, work: Callable[[Engine], T]) -> list[T | Exception]:
    """Run work(engine) in n threads at once, each with an engine of its own as a separate
    process would have; each one's result or the exception it raised, in no set order."""
    barrier = threading.Barrier(n)
    outcomes: list[T | Exception] = []
    lock = threading.Lock()

    def run() -> None:
        own = make_engine(database_url)
        try:
            barrier.wait(timeout=10)
            outcome: T | Exception = work(own)
        except Exception as exc:
            outcome = exc
        finally:
            own.dispose()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == n, "a worker thread did not finish"
    return outcomes
