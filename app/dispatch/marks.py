"""The queue's handling marks: the bureau's items sent past the school (直送教体局) or handed
up (学校上报), the school's masked copies of them (教育局转办), items returned (退回) and items
not acknowledged in time (待受理超期)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlmodel import Session, col, select

from app.deadlines.ack import unacknowledged_late
from app.models import (
    AdminRole,
    AdminUser,
    Dispatch,
    DispatchLevel,
    EventKind,
    Submission,
    SubmissionEvent,
)

MARKS = {
    "direct": "直送教体局",
    "handed_up": "学校上报",
    "forwarded": "教育局转办",
    "returned": "退回",
    "unacked": "待受理超期",
}
# Marks that would tell a school how a bureau item reached the bureau: the bureau's alone.
_BUREAU_ONLY = ("direct", "handed_up")
# The school is told its copy is the bureau's, masked; the bureau's own view is unchanged.
_UNIT_ONLY = ("forwarded",)


def marks_for(user: AdminUser) -> dict[str, str]:
    """The marks this admin's queue shows and filters by."""
    hidden = _UNIT_ONLY if user.role == AdminRole.bureau_admin else _BUREAU_ONLY
    return {k: v for k, v in MARKS.items() if k not in hidden}


def _returned(level: DispatchLevel) -> ColumnElement[bool]:
    return exists().where(
        col(Dispatch.submission_id) == col(Submission.id),
        col(Dispatch.level) == level.value,
        col(Dispatch.returned_at).is_not(None),
    )


def mark_condition(
    session: Session, *, user: AdminUser, mark: str, today: date
) -> ColumnElement[bool]:
    """The condition for the items that carry `mark` (one of marks_for(user))."""
    if mark not in marks_for(user):
        return false()
    handed_up = exists().where(
        col(SubmissionEvent.submission_id) == col(Submission.id),
        col(SubmissionEvent.kind) == EventKind.handed_up.value,
    )
    to_bureau = col(Submission.to_bureau).is_(True)
    if mark == "direct":
        return and_(to_bureau, ~handed_up)
    if mark == "handed_up":
        return and_(to_bureau, handed_up)
    if mark == "forwarded":
        return and_(to_bureau, col(Submission.masked_text).is_not(None))
    if mark == "returned":
        # Back with the bureau (no copy at the school), or back with the school's admins.
        return or_(
            and_(to_bureau, col(Submission.masked_text).is_(None), _returned(DispatchLevel.unit)),
            and_(col(Submission.assignee_id).is_(None), _returned(DispatchLevel.handler)),
        )
    return unacknowledged_late(session, today=today)


def row_marks(
    session: Session, *, user: AdminUser, ids: Sequence[int], today: date
) -> dict[int, list[str]]:
    """Row id -> the labels of its marks, for the rows of one queue page."""
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    for mark, label in marks_for(user).items():
        query = select(Submission.id).where(
            col(Submission.id).in_(list(ids)),
            mark_condition(session, user=user, mark=mark, today=today),
        )
        for sid in session.exec(query).all():
            if sid is not None:
                found.setdefault(sid, []).append(label)
    return found
