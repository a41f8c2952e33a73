"""Promised answer days: answer times, due labels, the one extension, 催办 and overdue lists.

For other packages: `Submission.due_on` is an item's promised answer day (set at intake,
moved by an approved extension) and `is_overdue(status=…, due_on=…, today=D)` says whether
it is overdue on day D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.accounts.access import select_visible_submissions
from app.audit.service import record_audit
from app.core.errors import Conflict, Forbidden, Invalid
from app.core.time import chinese_date
from app.deadlines.events import record_event
from app.mail.address import is_email_address
from app.mail.compose import build_message
from app.models import (
    OPEN_STATUSES,
    AdminRole,
    AdminUser,
    Bureau,
    EventKind,
    ExtensionStatus,
    OutboxKind,
    Submission,
    Unit,
    utcnow,
)
from app.outbox.service import queue_mail
from app.review.service import get_item
from app.workdays.service import add_working_days, working_days_between

MAX_DAYS = 60
MAX_EXTRA_DAYS = 30
MAX_REASON = 500
MAX_URGE = 1000


def is_overdue(*, status: str, due_on: date | None, today: date) -> bool:
    """Whether an item with this status and due day is overdue on `today`."""
    return due_on is not None and status in OPEN_STATUSES and due_on < today


@dataclass(frozen=True)
class DueLabel:
    text: str
    tone: str  # "ok", "today" or "late", for the page's colour
    working_days: int  # left (positive) or overdue (negative)


def due_label(*, due_on: date, today: date) -> DueLabel:
    """剩余 N 个工作日 / 今天到期 / 超期 N 天 (working days)."""
    if due_on == today:
        return DueLabel("今天到期", "today", 0)
    if due_on > today:
        left = working_days_between(today, due_on)
        if left == 0:  # due on a rest day: the next working day is the last chance
            return DueLabel("今天到期", "today", 0)
        return DueLabel(f"剩余 {left} 个工作日", "ok", left)
    late = working_days_between(due_on, today)
    return DueLabel(f"超期 {max(late, 1)} 天", "late", -max(late, 1))


def _days(value: str | int, *, label: str, field: str, top: int = MAX_DAYS) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= top:
        raise Invalid(f"{label}应为 1 到 {top} 之间的整数（工作日）。", field=field)
    return int(text)


def set_unit_times(
    session: Session,
    *,
    actor_id: int | None,
    unit: Unit,
    answer_days: str | int,
    ack_days: str | int,
) -> None:
    """Set a unit's promised answer and acknowledgement times in working days (audited)."""
    unit.answer_days = _days(answer_days, label="承诺答复时间", field="answer_days")
    unit.ack_days = _days(ack_days, label="受理确认时间", field="ack_days")
    if unit.ack_days > unit.answer_days:
        raise Invalid("受理确认时间不能长于承诺答复时间。", field="ack_days")
    session.add(unit)
    record_audit(
        session,
        actor_id=actor_id,
        action="answer_times",
        unit_id=unit.id,
        detail={"answer_days": unit.answer_days, "ack_days": unit.ack_days},
    )


def set_bureau_times(
    session: Session,
    *,
    actor_id: int | None,
    bureau: Bureau,
    answer_days: str | int,
    ack_days: str | int,
    extension_needs_approval: bool,
) -> None:
    """Set the bureau's own answer times and whether extensions need its approval (audited)."""
    bureau.answer_days = _days(answer_days, label="承诺答复时间", field="answer_days")
    bureau.ack_days = _days(ack_days, label="受理确认时间", field="ack_days")
    if bureau.ack_days > bureau.answer_days:
        raise Invalid("受理确认时间不能长于承诺答复时间。", field="ack_days")
    bureau.extension_needs_approval = extension_needs_approval
    session.add(bureau)
    record_audit(
        session,
        actor_id=actor_id,
        action="bureau_answer_times",
        detail={
            "answer_days": bureau.answer_days,
            "ack_days": bureau.ack_days,
            "extension_needs_approval": extension_needs_approval,
        },
    )


def extend_item(
    session: Session,
    *,
    user: AdminUser,
    submission_id: int,
    extra_days: str | int,
    reason: str,
    today: date,
) -> ExtensionStatus:
    """Extend an item's due day once, for a reason; pending when the bureau must approve."""
    if user.role == AdminRole.reviewer:
        raise Forbidden("只有管理员可以延期。")
    sub = get_item(session, user=user, submission_id=submission_id)
    if sub.extension_status is not None:
        raise Conflict("这条意见已经延期过一次，不能再延期。", field="extra_days")
    if sub.status not in OPEN_STATUSES:
        raise Invalid("已答复或已办结的意见无需延期。", field="extra_days")
    days = _days(extra_days, label="延长时间", field="extra_days", top=MAX_EXTRA_DAYS)
    why = reason.strip()
    if not why:
        raise Invalid("请写明延期理由（例如情况复杂，需要调查核实）。", field="reason")
    if len(why) > MAX_REASON:
        raise Invalid(f"延期理由不能超过 {MAX_REASON} 字。", field="reason")
    assert sub.id is not None
    new_due = add_working_days(max(sub.due_on or today, today), days)
    bureau = session.get(Bureau, user.bureau_id)
    assert bureau is not None
    pending = bureau.extension_needs_approval and user.role != AdminRole.bureau_admin
    status = ExtensionStatus.pending if pending else ExtensionStatus.approved
    sub.extension_status, sub.extension_due_on, sub.extension_reason = status, new_due, why
    if not pending:
        sub.due_on = new_due
    sub.updated_at = utcnow()
    session.add(sub)
    kind = EventKind.extension_requested if pending else EventKind.extended
    note = f"至{chinese_date(new_due)}：{why}"
    record_event(session, submission_id=sub.id, kind=kind, actor_id=user.id, note=note)
    record_audit(
        session,
        actor_id=user.id,
        action="extend",
        unit_id=sub.unit_id,
        submission_id=sub.id,
        detail={"to": new_due.isoformat(), "status": status.value},
    )
    return status


def decide_extension(
    session: Session, *, user: AdminUser, submission_id: int, approve: bool
) -> None:
    """A bureau admin approves or refuses a pending extension (audited, on the timeline)."""
    if user.role != AdminRole.bureau_admin:
        raise Forbidden("只有教育局管理员可以审批延期。")
    sub = get_item(session, user=user, submission_id=submission_id)
    if sub.extension_status != ExtensionStatus.pending:
        raise Conflict("这条意见没有待审批的延期申请。")
    assert sub.id is not None
    if approve:
        sub.extension_status = ExtensionStatus.approved
        sub.due_on = sub.extension_due_on
    else:
        sub.extension_status = ExtensionStatus.refused
    sub.updated_at = utcnow()
    session.add(sub)
    kind = EventKind.extension_approved if approve else EventKind.extension_refused
    record_event(session, submission_id=sub.id, kind=kind, actor_id=user.id)
    record_audit(
        session,
        actor_id=user.id,
        action="extension_decided",
        unit_id=sub.unit_id,
        submission_id=sub.id,
        detail={"approved": approve},
    )


def holders(session: Session, *, submission: Submission) -> list[AdminUser]:
    """Who holds an item: its assignee and the unit's active admins (the bureau's admins
    while the bureau holds it: its unit must not learn of it)."""
    unit_admins = and_(
        col(AdminUser.unit_id) == submission.unit_id,
        col(AdminUser.role) == AdminRole.unit_admin.value,
    )
    if submission.to_bureau and submission.masked_text is None:
        unit = session.get(Unit, submission.unit_id)
        assert unit is not None
        unit_admins = and_(
            col(AdminUser.bureau_id) == unit.bureau_id,
            col(AdminUser.role) == AdminRole.bureau_admin.value,
        )
    query = select(AdminUser).where(
        col(AdminUser.active).is_(True),
        or_(unit_admins, col(AdminUser.id) == submission.assignee_id)
        if submission.assignee_id is not None
        else unit_admins,
    )
    return list(session.exec(query.order_by(col(AdminUser.id))).all())


def deadline_email(
    *, to: str, subject: str, lines: list[str], link: str, from_addr: str
) -> EmailMessage:
    """A 督办 mail to an admin: what is due and a link to the item, nothing of the sender."""
    text = "您好：\n\n" + "\n".join(lines) + f"\n\n查看并办理：{link}\n\n（意见箱系统自动发送）\n"
    return build_message(
        from_addr=from_addr,
        from_name="意见箱督办",
        to_addrs=[to],
        subject=subject,
        text=text,
        message_id_domain=from_addr.rpartition("@")[2] or "localhost",
        headers={"Auto-Submitted": "auto-generated"},
    )


def queue_to_holders(
    session: Session,
    *,
    submission: Submission,
    subject: str,
    lines: list[str],
    from_addr: str,
    base_url: str,
) -> int:
    """Queue one mail to each holder with an email address; how many were queued."""
    return queue_to_admins(
        session,
        submission=submission,
        admins=holders(session, submission=submission),
        subject=subject,
        lines=lines,
        from_addr=from_addr,
        base_url=base_url,
    )


def queue_to_admins(
    session: Session,
    *,
    submission: Submission,
    admins: list[AdminUser],
    subject: str,
    lines: list[str],
    from_addr: str,
    base_url: str,
) -> int:
    """Queue one mail about the item to each of these admins with an email address; how
    many were queued."""
    assert submission.id is not None
    link = f"{base_url.rstrip('/')}/admin/items/{submission.id}"
    queued = 0
    for admin in admins:
        if not admin.email:
            continue
        message = deadline_email(
            to=admin.email, subject=subject, lines=lines, link=link, from_addr=from_addr
        )
        queue_mail(
            session,
            kind=OutboxKind.deadline,
            submission_id=submission.id,
            to_addr=admin.email,
            message=message,
            send_at=utcnow(),
        )
        queued += 1
    return queued


def urge_item(
    session: Session,
    *,
    user: AdminUser,
    submission_id: int,
    note: str,
    from_addr: str | None,
    base_url: str,
) -> int:
    """A bureau admin's 催办 note: on the item's timeline, and mailed to its holders
    (from_addr None: no mail server, only recorded); how many mails were queued."""
    if user.role != AdminRole.bureau_admin:
        raise Forbidden("只有教育局管理员可以催办。")
    sub = get_item(session, user=user, submission_id=submission_id)
    text = note.strip()
    if not text:
        raise Invalid("请填写催办意见。", field="note")
    if len(text) > MAX_URGE:
        raise Invalid(f"催办意见不能超过 {MAX_URGE} 字。", field="note")
    assert sub.id is not None
    record_event(session, submission_id=sub.id, kind=EventKind.urged, actor_id=user.id, note=text)
    record_audit(
        session, actor_id=user.id, action="urge", unit_id=sub.unit_id, submission_id=sub.id
    )
    if from_addr is None:
        return 0
    due = f"承诺答复日期：{chinese_date(sub.due_on)}。" if sub.due_on else ""
    return queue_to_holders(
        session,
        submission=sub,
        subject=f"【催办】意见 #{sub.id}",
        lines=[f"教育局对意见 #{sub.id} 催办：", text, due],
        from_addr=from_addr,
        base_url=base_url,
    )


@dataclass(frozen=True)
class OverdueRow:
    id: int
    unit_name: str
    due_on: date
    days_overdue: int  # working days
    holder: str  # the assignee, or "未分配"
    excerpt: str


def list_overdue(session: Session, *, user: AdminUser, today: date) -> list[OverdueRow]:
    """Every overdue item the admin sees (all units for the bureau), longest overdue first."""
    query = (
        select_visible_submissions(session, user=user)
        .where(col(Submission.status).in_(OPEN_STATUSES), col(Submission.due_on) < today)
        .order_by(col(Submission.due_on), col(Submission.id))
    )
    subs = list(session.scalars(query).all())
    units = {u.id: u.name for u in session.exec(select(Unit)).all()}
    people = {
        a.id: a.display_name or a.username
        for a in session.exec(
            select(AdminUser).where(
                col(AdminUser.id).in_({s.assignee_id for s in subs if s.assignee_id})
            )
        ).all()
    }
    return [
        OverdueRow(
            id=s.id or 0,
            unit_name=units.get(s.unit_id, ""),
            due_on=s.due_on or today,
            days_overdue=working_days_between(s.due_on or today, today),
            holder=people.get(s.assignee_id, "未分配") if s.assignee_id else "未分配",
            excerpt=s.text[:60],
        )
        for s in subs
    ]


def set_admin_email(session: Session, *, actor_id: int | None, user: AdminUser, email: str) -> None:
    """Set (or, empty, remove) where an admin receives 督办 mails (audited)."""
    value = email.strip()
    if value and not is_email_address(value):
        raise Invalid("邮箱地址格式不正确。", field="email")
    user.email = value or None
    session.add(user)
    record_audit(session, actor_id=actor_id, action="admin_email", detail={"user_id": user.id})
