"""What the item page shows of 转办: the instructions (交办意见) that came with the item, a
return that sent it back, and the return forms this admin may use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from app.models import AdminRole, AdminUser, Dispatch, DispatchLevel, Submission


@dataclass(frozen=True)
class DispatchView:
    instruction: str | None
    due_on: date | None
    sent_by: str
    sent_at: datetime
    returned_reason: str | None  # set: the receiver sent it back (退回)
    returned_by: str | None


@dataclass(frozen=True)
class ItemDispatch:
    to_unit: DispatchView | None  # the bureau's dispatch to the school
    to_handler: DispatchView | None  # a unit admin's assignment to a handler
    can_return: bool  # a school admin holding the bureau's masked copy
    can_hand_back: bool  # the handler the item is assigned to


def item_dispatch(session: Session, *, user: AdminUser, submission: Submission) -> ItemDispatch:
    """The 转办 panel of one item (as this admin may see it) for this admin."""
    rows = {
        DispatchLevel(row.level): row
        for row in session.exec(
            select(Dispatch).where(col(Dispatch.submission_id) == submission.id)
        ).all()
    }
    ids = {i for row in rows.values() for i in (row.sent_by, row.returned_by) if i}
    names = {
        a.id: a.display_name or a.username
        for a in session.exec(select(AdminUser).where(col(AdminUser.id).in_(ids))).all()
    }

    def view(level: DispatchLevel) -> DispatchView | None:
        row = rows.get(level)
        if row is None:
            return None
        return DispatchView(
            instruction=row.instruction,
            due_on=row.due_on,
            sent_by=names.get(row.sent_by, "—") if row.sent_by else "—",
            sent_at=row.sent_at,
            returned_reason=row.returned_reason,
            returned_by=names.get(row.returned_by) if row.returned_by else None,
        )

    forwarded = submission.to_bureau and submission.masked_text is not None
    # An item back with the bureau alone has no assignment at the school any more.
    at_school = forwarded or not submission.to_bureau
    return ItemDispatch(
        to_unit=view(DispatchLevel.unit) if submission.to_bureau else None,
        to_handler=view(DispatchLevel.handler) if at_school else None,
        can_return=forwarded and user.role == AdminRole.unit_admin,
        can_hand_back=submission.assignee_id == user.id,
    )
