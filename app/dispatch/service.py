"""转办 and 退回: the bureau dispatches its item to a school (with the masked forward of
app.bureau), a unit admin assigns an item to a handler; each receiver may return it with a
reason. Every step is on the item's timeline, audited, and mailed to whoever receives it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app.audit.service import record_audit
from app.core.errors import Conflict, Forbidden, Invalid
from app.core.time import TZ
from app.deadlines.events import record_event
from app.deadlines.service import holders, queue_to_admins
from app.intake.service import clean_text
from app.models import (
    AdminRole,
    AdminUser,
    Dispatch,
    DispatchLevel,
    EventKind,
    Status,
    Submission,
    Unit,
    utcnow,
)
from app.review.service import assign_items, get_item
from app.workdays.service import add_working_days, working_days_between

MAX_INSTRUCTION = 1000
MAX_REASON = 500
MAX_DUE_DAYS = 60


@dataclass(frozen=True)
class Mailing:
    """Where dispatch mails come from (from_addr None: no mail server, nothing is mailed)."""

    from_addr: str | None
    base_url: str


def _instruction(value: str) -> str | None:
    text = clean_text(value)
    if len(text) > MAX_INSTRUCTION:
        raise Invalid(f"交办意见不能超过 {MAX_INSTRUCTION} 字。", field="instruction")
    return text or None


def _reason(value: str) -> str:
    text = clean_text(value)
    if not text:
        raise Invalid("请填写退回理由。", field="reason")
    if len(text) > MAX_REASON:
        raise Invalid(f"退回理由不能超过 {MAX_REASON} 字。", field="reason")
    return text


def _due_days(value: str) -> int | None:
    digits = value.strip()
    if not digits:
        return None
    if not (digits.isascii() and digits.isdigit()) or not 1 <= int(digits) <= MAX_DUE_DAYS:
        raise Invalid(f"办理期限应为 1 到 {MAX_DUE_DAYS} 个工作日。", field="due_days")
    return int(digits)


def _row(session: Session, submission: Submission, level: DispatchLevel) -> Dispatch:
    assert submission.id is not None
    found = session.get(Dispatch, (submission.id, level.value))
    return found or Dispatch(submission_id=submission.id, level=level)


def _end_assignment(session: Session, submission: Submission) -> None:
    """Drop the unit admin's instruction to a handler: that assignment is over (the timeline
    keeps it)."""
    found = session.get(Dispatch, (submission.id, DispatchLevel.handler.value))
    if found is not None:
        session.delete(found)


@dataclass(frozen=True)
class PreviousDispatch:
    instruction: str  # as the bureau last wrote it, to edit rather than retype
    due_days: str  # the working days it gave then ("" for none)


def previous_dispatch(session: Session, *, submission: Submission) -> PreviousDispatch:
    """The bureau's last dispatch of the item to its school (after a 退回, say), as the
    forward form's starting values."""
    found = session.get(Dispatch, (submission.id, DispatchLevel.unit.value))
    if found is None:
        return PreviousDispatch(instruction="", due_days="")
    days = (
        str(working_days_between(found.sent_at.astimezone(TZ).date(), found.due_on))
        if found.due_on
        else ""
    )
    return PreviousDispatch(instruction=found.instruction or "", due_days=days)


def _send(
    session: Session,
    *,
    mailing: Mailing,
    submission: Submission,
    admins: list[AdminUser],
    subject: str,
    lines: list[str],
) -> None:
    if mailing.from_addr is None:
        return
    queue_to_admins(
        session,
        submission=submission,
        admins=admins,
        subject=subject,
        lines=[line for line in lines if line],
        from_addr=mailing.from_addr,
        base_url=mailing.base_url,
    )


def _step(
    session: Session,
    *,
    user: AdminUser,
    submission: Submission,
    kind: EventKind,
    note: str,
    detail: dict[str, object],
) -> None:
    assert submission.id is not None
    record_event(session, submission_id=submission.id, kind=kind, actor_id=user.id, note=note)
    record_audit(
        session,
        actor_id=user.id,
        # The forward kept the audit action it had before it carried an instruction.
        action="forward_masked" if kind == EventKind.forwarded_masked else kind.value,
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail=detail,
    )


def dispatch_to_unit(
    session: Session,
    *,
    user: AdminUser,
    submission: Submission,
    instruction: str,
    due_days: str,
    today: date,
    mailing: Mailing,
) -> None:
    """Record the bureau's dispatch of its item (already given its masked copy) to the school,
    with the instruction and the wanted answer day, and mail the school's admins."""
    text = _instruction(instruction)
    days = _due_days(due_days)
    if Status(submission.status) in (Status.new, Status.classified):
        submission.status = Status.forwarded  # 已转办, as an assignment does
        session.add(submission)
    row = _row(session, submission, DispatchLevel.unit)
    if row.returned_at is not None:  # back from the school: its old assignment is over
        _end_assignment(session, submission)
    row.instruction = text
    row.due_on = add_working_days(today, days) if days else None
    row.sent_by, row.sent_at = user.id, utcnow()
    row.returned_reason = row.returned_by = row.returned_at = None
    session.add(row)
    unit = session.get(Unit, submission.unit_id)
    assert unit is not None
    _step(
        session,
        user=user,
        submission=submission,
        kind=EventKind.forwarded_masked,
        note=f"{unit.name}：{text}" if text else unit.name,
        detail={"instruction": text, "due_on": row.due_on.isoformat() if row.due_on else None},
    )
    _send(
        session,
        mailing=mailing,
        submission=submission,
        admins=holders(session, submission=submission),
        subject=f"【转办】意见 #{submission.id}",
        lines=[
            f"教育局把意见 #{submission.id} 转给贵校办理（内容已遮盖）。",
            f"交办意见：{text}" if text else "",
            f"请于 {row.due_on.isoformat()} 前办理。" if row.due_on else "",
        ],
    )


def return_to_bureau(
    session: Session, *, user: AdminUser, submission_id: int, reason: str, mailing: Mailing
) -> None:
    """The school sends a dispatched item back to the bureau with a reason: its copy leaves
    the school's view, the bureau sees it marked 已退回."""
    if user.role != AdminRole.unit_admin:
        raise Forbidden("只有学校管理员可以把意见退回教育局。")
    sub = get_item(session, user=user, submission_id=submission_id)
    if not sub.to_bureau:
        raise Conflict("这条意见不是教育局转来的，不能退回。")
    text = _reason(reason)
    sub.masked_text = None
    sub.assignee_id = None  # the school's handler can no longer see it
    _end_assignment(session, sub)
    _returned(
        session,
        user=user,
        submission=sub,
        level=DispatchLevel.unit,
        reason=text,
        told=f"学校把教育局转办的意见 #{sub.id} 退回。",
        mailing=mailing,
    )


def _returned(
    session: Session,
    *,
    user: AdminUser,
    submission: Submission,
    level: DispatchLevel,
    reason: str,
    told: str,
    mailing: Mailing,
) -> None:
    """Record a return (the item already taken from the receiver): on the dispatch row, the
    timeline and the audit log, and mailed to whoever holds the item now."""
    submission.updated_at = utcnow()
    session.add(submission)
    row = _row(session, submission, level)
    row.returned_reason, row.returned_by, row.returned_at = reason, user.id, utcnow()
    session.add(row)
    kind = EventKind.returned if level == DispatchLevel.unit else EventKind.assignment_returned
    _step(
        session,
        user=user,
        submission=submission,
        kind=kind,
        note=reason,
        detail={"reason": reason},
    )
    _send(
        session,
        mailing=mailing,
        submission=submission,
        admins=holders(session, submission=submission),
        subject=f"【退回】意见 #{submission.id}",
        lines=[told, f"退回理由：{reason}"],
    )


def assign_with_instruction(
    session: Session,
    *,
    user: AdminUser,
    submission_id: int,
    assignee: str,
    instruction: str,
    mailing: Mailing,
) -> None:
    """An admin assigns an item to a handler of its unit with an instruction (交办意见), and
    the handler is mailed; no assignee takes the item back."""
    digits = assignee.strip()
    if digits and not (digits.isascii() and digits.isdigit()):
        raise Invalid("请选择承办人。", field="assignee")
    text = _instruction(instruction)
    sub = get_item(session, user=user, submission_id=submission_id)
    assign_items(
        session,
        user=user,
        items=[sub],
        assignee_id=int(digits) if digits else None,
        instruction=text,
    )
    if not digits:  # taken back: no instruction stands any more
        _end_assignment(session, sub)
        return
    row = _row(session, sub, DispatchLevel.handler)
    row.instruction = text
    row.sent_by, row.sent_at = user.id, utcnow()
    row.returned_reason = row.returned_by = row.returned_at = None
    session.add(row)
    handler = session.get(AdminUser, int(digits))
    assert handler is not None
    _send(
        session,
        mailing=mailing,
        submission=sub,
        admins=[handler] if handler.id != user.id else [],
        subject=f"【交办】意见 #{sub.id}",
        lines=[f"意见 #{sub.id} 交给您办理。", f"交办意见：{text}" if text else ""],
    )


def return_assignment(
    session: Session, *, user: AdminUser, submission_id: int, reason: str, mailing: Mailing
) -> None:
    """The handler returns an assignment to the unit's admins with a reason: the item is
    unassigned and marked 退回 in the queue."""
    sub = get_item(session, user=user, submission_id=submission_id)
    if sub.assignee_id != user.id:
        raise Forbidden("这条意见没有分配给您，不能退回。")
    text = _reason(reason)
    sub.assignee_id = None
    _returned(
        session,
        user=user,
        submission=sub,
        level=DispatchLevel.handler,
        reason=text,
        told=f"承办人退回了意见 #{sub.id}，请重新分配。",
        mailing=mailing,
    )
