"""Working-day deadlines: calendar overrides, the item's handling timeline, 督办 reminders."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class CalendarDay(SQLModel, table=True):
    """An admin's correction of the official calendar for one day (who and when: audit log)."""

    __tablename__ = "calendar_day"
    day: date = Field(primary_key=True)
    working: bool
    note: str = Field(default="", max_length=100)
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class ExtensionStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    refused = "refused"


EXTENSION_LABELS: dict[ExtensionStatus, str] = {
    ExtensionStatus.pending: "延期待审批",
    ExtensionStatus.approved: "已延期",
    ExtensionStatus.refused: "延期未获批准",
}


class EventKind(StrEnum):
    """A step in an item's handling; a later step (dispatched, returned, …) only adds a kind."""

    extended = "extended"
    extension_requested = "extension_requested"
    extension_approved = "extension_approved"
    extension_refused = "extension_refused"
    urged = "urged"
    reminder_sent = "reminder_sent"
    replied = "replied"
    closed = "closed"
    reopened = "reopened"
    reply_approved = "reply_approved"
    reply_returned = "reply_returned"
    handed_up = "handed_up"
    forwarded_masked = "forwarded_masked"
    returned = "returned"
    assigned = "assigned"
    assignment_returned = "assignment_returned"


EVENT_LABELS: dict[EventKind, str] = {
    EventKind.extended: "延期",
    EventKind.extension_requested: "申请延期",
    EventKind.extension_approved: "批准延期",
    EventKind.extension_refused: "不批准延期",
    EventKind.urged: "催办",
    EventKind.reminder_sent: "督办提醒",
    EventKind.replied: "答复",
    EventKind.closed: "办结",
    EventKind.reopened: "重新办理",
    EventKind.reply_approved: "审核通过答复",
    EventKind.reply_returned: "退回答复",
    EventKind.handed_up: "上报教体局",
    EventKind.forwarded_masked: "转给学校（已遮盖）",
    EventKind.returned: "学校退回教体局",
    EventKind.assigned: "交办承办人",
    EventKind.assignment_returned: "承办人退回",
}


class SubmissionEvent(SQLModel, table=True):
    """One step on an item's 办理记录 timeline (times to the minute)."""

    __tablename__ = "submission_event"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    kind: EventKind = Field(sa_type=String(32))
    actor_id: int | None = Field(default=None, foreign_key="admin_user.id")
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class ReminderKind(StrEnum):
    due_soon = "due_soon"  # one working day before the due date
    overdue = "overdue"


class DeadlineReminder(SQLModel, table=True):
    """That an item's reminder of this kind was queued: the primary key makes it once only."""

    __tablename__ = "deadline_reminder"
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    kind: ReminderKind = Field(sa_type=String(16), primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
