"""The one extension an item may get, the bureau's approval, 催办 and the timeline."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.core.db import session_scope
from app.core.errors import Conflict, Forbidden, Invalid
from app.deadlines.events import list_events
from app.deadlines.service import decide_extension, extend_item, urge_item
from app.models import (
    AdminRole,
    AdminUser,
    AuditLog,
    Bureau,
    ExtensionStatus,
    OutboxMail,
    Submission,
)
from tests.factories import add_admin, add_submission

TODAY = date(2026, 9, 24)  # Thursday before Mid-Autumn
DUE = date(2026, 9, 29)


def setup_item(engine: Engine, *, approval: bool) -> tuple[int, int, int]:
    """An item due on DUE; (item, unit admin, bureau admin)."""
    chief = add_admin(engine, username="chief")
    head = add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    with session_scope(engine) as s:
        sid = add_submission(s)
        s.execute(update(Submission).where(col(Submission.id) == sid).values(due_on=DUE))
        s.execute(update(Bureau).values(extension_needs_approval=approval))
    return sid, head, chief


def extend(engine: Engine, who: int, sid: int, days: str = "5", reason: str = "情况复杂") -> str:
    with session_scope(engine) as s:
        user = s.get(AdminUser, who)
        assert user is not None
        return extend_item(
            s, user=user, submission_id=sid, extra_days=days, reason=reason, today=TODAY
        ).value


def item(engine: Engine, sid: int) -> Submission:
    with Session(engine) as s:
        sub = s.get(Submission, sid)
        assert sub is not None
        return sub


def test_an_admin_extends_once_with_a_reason(engine: Engine, demo: None) -> None:
    sid, head, _ = setup_item(engine, approval=False)
    with pytest.raises(Invalid, match="延期理由"):
        extend(engine, head, sid, reason="  ")
    with pytest.raises(Invalid, match="1 到 30"):
        extend(engine, head, sid, days="0")
    assert extend(engine, head, sid) == ExtensionStatus.approved
    # Five working days after 29 September: 30 September, then 8, 9, 10 (Sat), 12 October.
    assert item(engine, sid).due_on == date(2026, 10, 12)
    with pytest.raises(Conflict, match="一次"):
        extend(engine, head, sid)
    with Session(engine) as s:
        events = list_events(s, submission_id=sid)
        audit = s.exec(select(AuditLog).where(AuditLog.action == "extend")).all()
    assert [(e.label, e.actor, e.note) for e in events] == [
        ("延期", "head", "至2026年10月12日：情况复杂")
    ]
    assert events[0].at.second == 0 and len(audit) == 1


def test_with_approval_required_the_extension_waits_for_the_bureau(
    engine: Engine, demo: None
) -> None:
    sid, head, chief = setup_item(engine, approval=True)
    assert extend(engine, head, sid) == ExtensionStatus.pending
    assert item(engine, sid).due_on == DUE  # unchanged until approved
    with session_scope(engine) as s:
        user = s.get(AdminUser, head)
        assert user is not None
        with pytest.raises(Forbidden):
            decide_extension(s, user=user, submission_id=sid, approve=True)
    with session_scope(engine) as s:
        user = s.get(AdminUser, chief)
        assert user is not None
        decide_extension(s, user=user, submission_id=sid, approve=True)
    assert item(engine, sid).due_on == date(2026, 10, 12)
    with session_scope(engine) as s, pytest.raises(Conflict, match="待审批"):
        user = s.get(AdminUser, chief)
        assert user is not None
        decide_extension(s, user=user, submission_id=sid, approve=False)
    with Session(engine) as s:
        labels = [e.label for e in list_events(s, submission_id=sid)]
    assert labels == ["申请延期", "批准延期"]


def test_a_refused_extension_keeps_the_due_day_and_uses_up_the_one_try(
    engine: Engine, demo: None
) -> None:
    sid, head, chief = setup_item(engine, approval=True)
    extend(engine, head, sid)
    with session_scope(engine) as s:
        user = s.get(AdminUser, chief)
        assert user is not None
        decide_extension(s, user=user, submission_id=sid, approve=False)
    sub = item(engine, sid)
    assert sub.due_on == DUE and sub.extension_status == ExtensionStatus.refused
    with pytest.raises(Conflict):
        extend(engine, head, sid)


def test_a_reviewer_cannot_extend(engine: Engine, demo: None) -> None:
    sid, _, _ = setup_item(engine, approval=False)
    rev = add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo")
    with pytest.raises(Forbidden):
        extend(engine, rev, sid)


def test_the_bureau_urges_the_holders_through_the_outbox(engine: Engine, demo: None) -> None:
    sid, head, chief = setup_item(engine, approval=False)
    with session_scope(engine) as s:
        s.execute(update(AdminUser).where(col(AdminUser.id) == head).values(email="head@s.test"))
        user = s.get(AdminUser, chief)
        assert user is not None
        queued = urge_item(
            s, user=user, submission_id=sid, note="请本周内答复", from_addr="yj@bureau.test",
            base_url="https://yijian.example",
        )
    assert queued == 1
    with Session(engine) as s:
        mails = s.exec(select(OutboxMail)).all()
        events = list_events(s, submission_id=sid)
    assert [m.to_addr for m in mails] == ["head@s.test"]
    body = (mails[0].message or b"").decode()
    assert f"https://yijian.example/admin/items/{sid}" in body
    assert [(e.label, e.actor, e.note) for e in events] == [("催办", "chief", "请本周内答复")]
    with session_scope(engine) as s, pytest.raises(Forbidden):
        user = s.get(AdminUser, head)
        assert user is not None
        urge_item(s, user=user, submission_id=sid, note="x", from_addr=None, base_url="")
