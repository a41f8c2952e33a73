"""Acknowledgement time (受理确认时间, ack_days): an item still 待处理 (status new: nobody
classified, assigned, forwarded, answered or closed it) past its acknowledgement day is
待受理超期. Received on day D, it is acknowledged in time up to D + ack_days working days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import Session, col, select

from app.accounts.access import select_visible_submissions
from app.core.time import TZ, local_midnight
from app.models import AdminUser, Bureau, Status, Submission, Unit
from app.workdays.service import add_working_days


def last_late_day(*, today: date, ack_days: int) -> date:
    """The last day an item could have arrived and be past its acknowledgement day today."""
    day = today - timedelta(days=1)
    while add_working_days(day, ack_days) >= today:
        day -= timedelta(days=1)
    return day


def unacknowledged_late(session: Session, *, today: date) -> ColumnElement[bool]:
    """The condition for items not acknowledged by their acknowledgement day: a school's own
    items by its ack_days, the bureau's items (局长信箱) by the bureau's."""
    # Unit ids by the ack_days that applies, for the school's items and the bureau's.
    by_days: defaultdict[tuple[bool, int], list[int]] = defaultdict(list)
    for unit_id, unit_days, bureau_days in session.exec(
        select(Unit.id, Unit.ack_days, Bureau.ack_days).join(
            Bureau, col(Bureau.id) == col(Unit.bureau_id)
        )
    ).all():
        assert unit_id is not None
        by_days[False, unit_days].append(unit_id)
        by_days[True, bureau_days].append(unit_id)
    late = [
        and_(
            col(Submission.to_bureau).is_(to_bureau),
            col(Submission.unit_id).in_(ids),
            col(Submission.created_at)
            < local_midnight(last_late_day(today=today, ack_days=days) + timedelta(days=1)),
        )
        for (to_bureau, days), ids in by_days.items()
    ]
    return and_(col(Submission.status) == Status.new.value, or_(false(), *late))


@dataclass(frozen=True)
class UnacknowledgedRow:
    id: int
    unit_name: str
    received: date  # the local day it arrived
    excerpt: str


def list_unacknowledged(
    session: Session, *, user: AdminUser, today: date
) -> list[UnacknowledgedRow]:
    """Items this admin sees that nobody acknowledged by their acknowledgement day, oldest
    first (for the 督办 page)."""
    query = (
        select_visible_submissions(session, user=user)
        .join(Unit, col(Unit.id) == col(Submission.unit_id))
        .add_columns(col(Unit.name))
        .where(unacknowledged_late(session, today=today))
        .order_by(col(Submission.created_at), col(Submission.id))
    )
    return [
        UnacknowledgedRow(
            id=sub.id or 0,
            unit_name=name,
            received=sub.created_at.astimezone(TZ).date(),
            excerpt=sub.text[:60],
        )
        for sub, name in session.execute(query).all()
    ]
