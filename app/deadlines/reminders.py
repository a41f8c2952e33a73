"""督办 reminders: one working day before an item is due, and once it is overdue.

Each (item, kind) is claimed by inserting its deadline_reminder row in the transaction
that queues the mails, skipping a row that exists (ON CONFLICT DO NOTHING): two workers at
once queue each reminder once, and the outbox sends each queued mail once.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.core.time import chinese_date
from app.deadlines.events import record_event
from app.deadlines.service import queue_to_holders
from app.models import (
    OPEN_STATUSES,
    DeadlineReminder,
    EventKind,
    ReminderKind,
    Submission,
    utcnow,
)
from app.workdays.service import add_working_days, sync_calendar, working_days_between

_REMINDER = DeadlineReminder.__table__  # type: ignore[attr-defined]
# Per dialect: insert the claim, or nothing when another process holds it already.
_CLAIM = {
    name: insert(_REMINDER).on_conflict_do_nothing().returning(_REMINDER.c.submission_id)
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
MAX_PER_RUN = 500


def _claim(session: Session, *, submission_id: int, kind: ReminderKind) -> bool:
    conn = session.connection()
    row = {"submission_id": submission_id, "kind": kind.value, "created_at": utcnow()}
    return conn.execute(_CLAIM[conn.dialect.name], row).first() is not None


def queue_reminders(session: Session, *, today: date, from_addr: str, base_url: str) -> int:
    """Queue the reminders due today that no process has queued yet; how many items."""
    sync_calendar(session)
    last_day = add_working_days(today, 1)
    sent = select(DeadlineReminder.submission_id).where(
        DeadlineReminder.submission_id == Submission.id
    )
    rows = session.exec(
        select(Submission)
        .where(
            col(Submission.status).in_(OPEN_STATUSES),
            col(Submission.due_on).is_not(None),
            col(Submission.due_on) <= last_day,
            # Items with both reminders done drop out here; the kind is checked per item.
            ~(sent.where(DeadlineReminder.kind == ReminderKind.overdue.value).exists()),
        )
        .order_by(col(Submission.due_on), col(Submission.id))
        .limit(MAX_PER_RUN)
    ).all()
    count = 0
    for sub in rows:
        assert sub.id is not None and sub.due_on is not None
        late = sub.due_on < today
        kind = ReminderKind.overdue if late else ReminderKind.due_soon
        if not _claim(session, submission_id=sub.id, kind=kind):
            continue
        if late:
            days = working_days_between(sub.due_on, today)
            subject = f"【督办】意见 #{sub.id} 已超期"
            lines = [
                f"意见 #{sub.id} 的承诺答复日期是{chinese_date(sub.due_on)}，"
                f"已超期 {max(days, 1)} 个工作日，请尽快办理答复。"
            ]
        else:
            subject = f"【督办】意见 #{sub.id} 将于{chinese_date(sub.due_on)}到期"
            lines = [
                f"意见 #{sub.id} 的承诺答复日期是{chinese_date(sub.due_on)}，请在到期前办理答复。"
            ]
        queue_to_holders(
            session,
            submission=sub,
            subject=subject,
            lines=lines,
            from_addr=from_addr,
            base_url=base_url,
        )
        note = "超期提醒" if late else "到期前一个工作日提醒"
        record_event(
            session, submission_id=sub.id, kind=EventKind.reminder_sent, actor_id=None, note=note
        )
        count += 1
    return count
