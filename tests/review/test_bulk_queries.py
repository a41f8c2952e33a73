"""Bulk actions cost a fixed number of statements, however many items are ticked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from app.models import AdminRole, AdminUser, AuditLog
from app.review.service import bulk_apply
from tests.factories import add_admin, insert_submissions


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (BEGIN and COMMIT excluded)."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def run_bulk(engine: Engine, n: int, action: str, value: str) -> int:
    """Statements one bulk change of n fresh items takes, up to and including its flush
    (value: for "assign", the assignee's username)."""
    # Mixed, so the items change different columns: new ones also move to 已分类 or 已转办.
    kinds: list[dict[str, object]] = [
        {},
        {"status": "classified", "check": 2},
        {"status": "forwarded"},
    ]
    ids = insert_submissions(engine, rows=[kinds[i % 3] for i in range(n)])
    with Session(engine) as s:
        users = {u.username: u for u in s.exec(select(AdminUser)).all()}
        if action == "assign":
            value = str(users[value].id)
        with counted(engine) as statements:
            assert bulk_apply(s, user=users["chief"], ids=ids, action=action, value=value) == n
            s.flush()
        s.commit()
    with Session(engine) as s:
        logged = s.exec(select(AuditLog).where(col(AuditLog.submission_id).in_(ids))).all()
        assert sorted(a.submission_id or 0 for a in logged) == sorted(ids)
        assert {a.action for a in logged} == {action}
    return len(statements)


@pytest.mark.parametrize(
    ("action", "value"), [("retag", "4"), ("assign", "rev"), ("status", "closed")]
)
def test_bulk_statements_do_not_grow_with_items(
    demo: None, engine: Engine, action: str, value: str
) -> None:
    add_admin(engine, username="chief")
    add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo")
    few, many = run_bulk(engine, 5, action, value), run_bulk(engine, 50, action, value)
    assert few == many, (few, many)
