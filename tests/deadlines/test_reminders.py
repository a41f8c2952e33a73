"""督办 reminders: one working day before the due day and once overdue, each once per item,
even with two workers at once; no sender details in the mail."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.core.db import claim_engine, session_scope
from app.deadlines.events import list_events
from app.deadlines.reminders import queue_reminders
from app.models import AdminRole, AdminUser, OutboxMail, Status, Submission
from app.outbox.jobs import SendResult, send_due_mail
from tests.conftest import smtp_sender
from tests.factories import add_admin, add_submission, new_submission
from tests.helpers import as_processes, plain_text, sent_message
from tests.servers.smtp import SmtpServer

FROM = "yijian@bureau.test"
BASE = "https://yijian.example"
# Thursday 24 September 2026, before the Mid-Autumn days off (25–27 September).
THURSDAY = date(2026, 9, 24)


def items_due(engine: Engine, dues: list[date], *, status: Status = Status.new) -> list[int]:
    """Named items (a name and a phone), each due on the given day; their ids."""
    add_admin(engine, username="head", role=AdminRole.unit_admin, unit_slug="demo")
    rev = add_admin(engine, username="rev", role=AdminRole.reviewer, unit_slug="demo")
    ids = []
    with session_scope(engine) as s:
        s.execute(update(AdminUser).values(email=AdminUser.username + "@school.test"))
        for due in dues:
            new = new_submission(anonymous=False, name="王小明", contact="13800138000")
            sid = add_submission(s, new=new, status=status)
            s.execute(
                update(Submission)
                .where(col(Submission.id) == sid)
                .values(due_on=due, assignee_id=rev)
            )
            ids.append(sid)
    return ids


def remind(engine: Engine, today: date) -> int:
    with claim_engine(engine) as claims, session_scope(claims) as s:
        return queue_reminders(s, today=today, from_addr=FROM, base_url=BASE)


def recipients(engine: Engine) -> list[tuple[int, str | None]]:
    with Session(engine) as s:
        return sorted((m.submission_id, m.to_addr) for m in s.exec(select(OutboxMail)).all())


def test_one_working_day_before_across_a_holiday_and_once_overdue(
    engine: Engine, demo: None
) -> None:
    # Due Monday 28 September: Thursday the 24th is the working day before it.
    [sid] = items_due(engine, [date(2026, 9, 28)])
    assert remind(engine, date(2026, 9, 23)) == 0
    assert remind(engine, THURSDAY) == 1
    assert remind(engine, THURSDAY) == 0  # once
    assert remind(engine, date(2026, 9, 28)) == 0  # due today: not overdue yet
    assert remind(engine, date(2026, 9, 29)) == 1
    assert remind(engine, date(2026, 9, 30)) == 0
    assert recipients(engine) == sorted([(sid, "head@school.test"), (sid, "rev@school.test")] * 2)
    with Session(engine) as s:
        notes = [(e.label, e.actor, e.note) for e in list_events(s, submission_id=sid)]
    assert notes == [
        ("督办提醒", "系统", "到期前一个工作日提醒"),
        ("督办提醒", "系统", "超期提醒"),
    ]


def test_answered_items_and_other_units_admins_get_nothing(engine: Engine, demo: None) -> None:
    items_due(engine, [THURSDAY], status=Status.replied)
    add_admin(engine, username="other", role=AdminRole.unit_admin, unit_slug="demo2")
    assert remind(engine, date(2026, 10, 9)) == 0
    assert recipients(engine) == []


def test_two_workers_at_once_send_each_reminder_once(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    ids = items_due(engine, [date(2026, 9, 28)] * 10 + [date(2026, 9, 1)] * 10)
    results = as_processes(database_url, 2, lambda own: remind(own, THURSDAY))
    assert all(isinstance(r, int) for r in results), results
    assert sum(r for r in results if isinstance(r, int)) == 20
    sent = as_processes(database_url, 2, lambda own: send_due_mail(own, smtp_sender(smtp_server)))
    assert all(isinstance(r, SendResult) for r in sent), sent
    got = sorted(rcpt for mail in smtp_server.messages for rcpt in mail.rcpt_tos)
    assert got == sorted(["head@school.test", "rev@school.test"] * len(ids))
    text = plain_text(sent_message(smtp_server))
    assert "王小明" not in text and "13800138000" not in text
    assert f"{BASE}/admin/items/" in text and "承诺答复日期" in text
