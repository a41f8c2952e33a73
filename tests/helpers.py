"""Small helpers shared by tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bs4 import BeautifulSoup

if TYPE_CHECKING:
    from app.core.config import Settings

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


def make_admin(
    engine: object,
    username: str,
    password: str,
    *,
    role: str = "bureau_admin",
    unit_slug: str | None = None,
) -> None:
    """Create an admin account directly in the database."""
    from sqlmodel import Session, select

    from app.accounts.service import create_admin
    from app.models import AdminRole, Bureau, Unit

    with Session(engine) as s:  # type: ignore[arg-type]
        bureau = s.exec(select(Bureau)).first()
        assert bureau is not None and bureau.id is not None
        unit_id = None
        if unit_slug is not None:
            unit = s.exec(select(Unit).where(Unit.slug == unit_slug)).one()
            unit_id = unit.id
        create_admin(
            s,
            username=username,
            password=password,
            role=AdminRole(role),
            bureau_id=bureau.id,
            unit_id=unit_id,
        )
        s.commit()


def login(client: object, username: str, password: str) -> str:
    """Log in through the form; returns the page's CSRF token."""
    r = client.post(
        "/admin/login",
        data={
            "username": username,
            "password": password,  # type: ignore[attr-defined]
            "next": "/admin",
        },
    )
    assert r.status_code == 200 and r.url.path == "/admin", r.text
    return csrf_of(r.text)


def csrf_of(html: str) -> str:
    field = soup(html).find("input", {"name": "csrf"})
    assert field is not None, html
    return str(field["value"])


def two_teachers_to_remind(engine: Any, tmp_path: Path, smtp: Any) -> tuple[Settings, int]:
    """Settings that send mail through the test SMTP server, and the demo unit's id with
    two roster teachers who have an email and no idea yet."""
    from sqlmodel import select

    from app.campaign import roster
    from app.core.db import session_scope
    from app.models import Unit
    from tests.conftest import TEST_SECRET, make_settings

    settings = make_settings(
        str(engine.url),
        tmp_path,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="none",
        mail_from="office@school.example",
    )
    with session_scope(engine) as s:
        uid = s.exec(select(Unit.id).where(Unit.slug == "demo")).one()
        data = "姓名,邮箱\n钱老师,q@s.example\n孙老师,sun@s.example\n".encode()
        roster.import_roster(s, unit_id=uid, filename="r.csv", data=data, secret=TEST_SECRET)
    return settings, uid
