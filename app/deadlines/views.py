"""What the item page shows of an item's deadline: the promised day, the extension, the
actions this admin may take and the 办理记录 timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app.core.time import chinese_date
from app.deadlines.events import EventView, list_events
from app.deadlines.service import DueLabel, due_label
from app.models import (
    EXTENSION_LABELS,
    OPEN_STATUSES,
    AdminRole,
    AdminUser,
    ExtensionStatus,
    Submission,
)


@dataclass(frozen=True)
class ItemDeadline:
    due_text: str | None  # 2026年10月13日
    label: DueLabel | None  # for open items only
    extension: str | None
    extension_to: str | None
    extension_reason: str | None
    can_extend: bool
    can_decide: bool
    can_urge: bool
    events: list[EventView]


def item_deadline(
    session: Session, *, user: AdminUser, submission: Submission, today: date
) -> ItemDeadline:
    """The deadline panel of one item for this admin."""
    assert submission.id is not None
    status = submission.extension_status
    is_open = submission.status in OPEN_STATUSES
    return ItemDeadline(
        due_text=chinese_date(submission.due_on) if submission.due_on else None,
        label=due_label(due_on=submission.due_on, today=today)
        if submission.due_on and is_open
        else None,
        extension=EXTENSION_LABELS[ExtensionStatus(status)] if status else None,
        extension_to=chinese_date(submission.extension_due_on)
        if submission.extension_due_on
        else None,
        extension_reason=submission.extension_reason,
        can_extend=is_open and status is None and user.role != AdminRole.reviewer,
        can_decide=status == ExtensionStatus.pending and user.role == AdminRole.bureau_admin,
        can_urge=is_open and user.role == AdminRole.bureau_admin,
        events=list_events(session, submission_id=submission.id),
    )
