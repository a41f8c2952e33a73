"""Retention: what is purged when, the archive of receipts, the warning list and holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from app.accounts.access import select_visible_submissions
from app.audit.service import record_audit
from app.core.errors import Archived, Invalid, NotFound
from app.core.time import TZ, local_midnight
from app.models import (
    AdminUser,
    Attachment,
    Bureau,
    EventKind,
    InboundMessage,
    RetentionHold,
    RetentionPolicy,
    RetentionPurge,
    Submission,
    SubmissionEvent,
    Unit,
    utcnow,
)
from app.models.retention import DEFAULT_ARCHIVE_DAYS, DEFAULT_PURGE_DAYS
from app.models.submission import Status

WARNING_DAYS = 14
MIN_DAYS, MAX_DAYS = 30, 3650
PURGED_FILENAME = "已按保存期限删除"
# IN lists stay well under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


@dataclass(frozen=True)
class PolicyView:
    bureau_id: int
    bureau_name: str
    purge_days: int
    archive_days: int


@dataclass
class PurgeResult:
    """What a run removed (or, on a dry run, would remove), counted per kind."""

    items: int = 0
    identities: int = 0  # items whose name or contact was removed
    raw_emails: int = 0
    attachments: int = 0
    held: int = 0  # due but held by an admin
    dry_run: bool = False
    ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        head = "将清理" if self.dry_run else "已清理"
        return (
            f"{head} {self.items} 条意见：姓名和联系方式 {self.identities} 条，原始邮件 "
            f"{self.raw_emails} 封，附件 {self.attachments} 个；因保留未清理 {self.held} 条。"
        )


@dataclass(frozen=True)
class UpcomingItem:
    submission_id: int
    unit_name: str
    closed_on: date
    purge_on: date
    held_reason: str | None


def _closed_at() -> tuple[Select[int | None, datetime], ColumnElement[datetime]]:
    """Closed items with the time they were closed: the last 办结 step of the timeline, or
    the last change for items closed before the timeline existed."""
    last = (
        select(
            col(SubmissionEvent.submission_id).label("submission_id"),
            func.max(SubmissionEvent.created_at).label("closed_at"),
        )
        .where(SubmissionEvent.kind == EventKind.closed.value)
        .group_by(col(SubmissionEvent.submission_id))
        .subquery()
    )
    closed_at = func.coalesce(last.c.closed_at, col(Submission.updated_at))
    query = (
        select(col(Submission.id), closed_at)
        .outerjoin(last, last.c.submission_id == Submission.id)
        .where(Submission.status == Status.closed.value)
    )
    return query, closed_at


def _local_day(at: datetime) -> date:
    return at.astimezone(TZ).date()


def get_policy(session: Session, *, bureau_id: int) -> RetentionPolicy:
    """The bureau's periods (the defaults until an admin sets them)."""
    return session.get(RetentionPolicy, bureau_id) or RetentionPolicy(bureau_id=bureau_id)


def list_policies(session: Session) -> list[PolicyView]:
    """Every bureau's periods, for the privacy notice and the CLI."""
    rows = session.exec(
        select(Bureau, RetentionPolicy)
        .outerjoin(RetentionPolicy, col(RetentionPolicy.bureau_id) == Bureau.id)
        .order_by(col(Bureau.id))
    ).all()
    return [
        PolicyView(
            bureau_id=bureau.id or 0,
            bureau_name=bureau.name,
            purge_days=policy.purge_days if policy else DEFAULT_PURGE_DAYS,
            archive_days=policy.archive_days if policy else DEFAULT_ARCHIVE_DAYS,
        )
        for bureau, policy in rows
    ]


def set_policy(
    session: Session, *, bureau_id: int, purge_days: int, archive_days: int, actor_id: int | None
) -> RetentionPolicy:
    """Save a bureau's periods (audited)."""
    for value, name in ((purge_days, "purge_days"), (archive_days, "archive_days")):
        if not MIN_DAYS <= value <= MAX_DAYS:
            raise Invalid(f"天数应在 {MIN_DAYS} 到 {MAX_DAYS} 之间。", field=name)
    if session.get(Bureau, bureau_id) is None:
        raise NotFound("没有这个教育局。")
    policy = get_policy(session, bureau_id=bureau_id)
    before = {"purge_days": policy.purge_days, "archive_days": policy.archive_days}
    policy.purge_days, policy.archive_days, policy.updated_at = purge_days, archive_days, utcnow()
    session.add(policy)
    record_audit(
        session,
        actor_id=actor_id,
        action="retention_policy",
        detail={
            "before": before,
            "after": {"purge_days": purge_days, "archive_days": archive_days},
        },
    )
    return policy


def check_receipt_active(session: Session, *, submission: Submission) -> None:
    """Raise Archived when the item was closed more than the bureau's archive days ago."""
    if submission.status != Status.closed:
        return
    # One item's own steps (by its index), not _closed_at()'s aggregate over every item.
    last = session.exec(
        select(func.max(SubmissionEvent.created_at)).where(
            SubmissionEvent.submission_id == submission.id,
            SubmissionEvent.kind == EventKind.closed.value,
        )
    ).one()
    unit = session.get(Unit, submission.unit_id)
    if unit is None:
        return
    policy = get_policy(session, bureau_id=unit.bureau_id)
    archived_on = _local_day(last or submission.updated_at) + timedelta(days=policy.archive_days)
    if archived_on <= datetime.now(TZ).date():
        raise Archived(
            "这条意见已办结归档（已归档），回执码已停用。请向收到意见的学校或教育局了解情况。"
        )


def _due_ids(session: Session, *, bureau_id: int, purge_days: int, before: date) -> list[int]:
    """Closed, unpurged items of the bureau whose purge day comes before `before`."""
    query, closed_at = _closed_at()
    cutoff = local_midnight(before - timedelta(days=purge_days))
    unit_ids = select(col(Unit.id)).where(Unit.bureau_id == bureau_id)
    purged = select(col(RetentionPurge.submission_id))
    rows = session.exec(
        query.where(
            col(Submission.unit_id).in_(unit_ids),
            closed_at < cutoff,
            col(Submission.id).not_in(purged),
        ).order_by(col(Submission.id))
    ).all()
    return [sub_id for sub_id, _ in rows if sub_id is not None]


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _count(session: Session, query: SelectOfScalar[int]) -> int:
    return int(session.exec(query).one())


def purge_due_items(session: Session, *, today: date, dry_run: bool = False) -> PurgeResult:
    """Remove the identifying data of every item closed its bureau's purge days ago and not
    held; keep the text, check, unit, dates and handling record (dry run: count only)."""
    result = PurgeResult(dry_run=dry_run)
    held = set(session.exec(select(col(RetentionHold.submission_id))).all())
    for policy in list_policies(session):
        due = _due_ids(
            session,
            bureau_id=policy.bureau_id,
            purge_days=policy.purge_days,
            before=today + timedelta(days=1),
        )
        result.held += sum(1 for i in due if i in held)
        result.ids += [i for i in due if i not in held]
    result.items = len(result.ids)
    for ids in _chunks(result.ids):
        identities = col(Submission.id).in_(ids) & (
            col(Submission.name).is_not(None) | col(Submission.contact).is_not(None)
        )
        raws = col(InboundMessage.submission_id).in_(ids) & (
            col(InboundMessage.raw).is_not(None) | col(InboundMessage.subject).is_not(None)
        )
        files = col(Attachment.submission_id).in_(ids) & (Attachment.filename != PURGED_FILENAME)
        counts = (
            _count(session, select(func.count()).select_from(Submission).where(identities)),
            _count(session, select(func.count()).select_from(InboundMessage).where(raws)),
            _count(session, select(func.count()).select_from(Attachment).where(files)),
        )
        result.identities += counts[0]
        result.raw_emails += counts[1]
        result.attachments += counts[2]
        if dry_run:
            continue
        session.execute(
            update(Submission).where(identities).values(name=None, contact=None, anonymous=True)
        )
        session.execute(
            update(InboundMessage).where(raws).values(raw=None, subject=None, received_at=None)
        )
        session.execute(
            update(Attachment).where(files).values(data=b"", sha256="", filename=PURGED_FILENAME)
        )
        for sub_id in ids:
            session.add(RetentionPurge(submission_id=sub_id, purged_on=today))
    if not dry_run and result.items:
        record_audit(
            session,
            actor_id=None,
            action="retention_purge",
            detail={
                "items": result.items,
                "identities": result.identities,
                "raw_emails": result.raw_emails,
                "attachments": result.attachments,
                "held": result.held,
            },
        )
    return result


def list_upcoming(session: Session, *, user: AdminUser, today: date) -> list[UpcomingItem]:
    """The admin's items to be purged within WARNING_DAYS days, and held ones past due."""
    policy = get_policy(session, bureau_id=user.bureau_id)
    due = set(
        _due_ids(
            session,
            bureau_id=user.bureau_id,
            purge_days=policy.purge_days,
            before=today + timedelta(days=WARNING_DAYS + 1),
        )
    )
    if not due:
        return []
    query, closed_at = _closed_at()
    visible = select_visible_submissions(session, user=user).with_only_columns(col(Submission.id))
    rows = session.execute(
        query.add_columns(col(Unit.name), col(RetentionHold.reason))
        .join(Unit, col(Unit.id) == Submission.unit_id)
        .outerjoin(RetentionHold, col(RetentionHold.submission_id) == Submission.id)
        .where(col(Submission.id).in_(visible), col(Submission.id).in_(due))
        .order_by(closed_at, col(Submission.id))
    ).all()
    items = []
    for sub_id, at, unit_name, reason in rows:
        closed_on = _local_day(at)
        items.append(
            UpcomingItem(
                submission_id=sub_id,
                unit_name=unit_name,
                closed_on=closed_on,
                purge_on=closed_on + timedelta(days=policy.purge_days),
                held_reason=reason,
            )
        )
    return items


def _visible(session: Session, *, user: AdminUser, submission_id: int) -> Submission:
    query = select_visible_submissions(session, user=user)
    sub = session.scalars(query.where(col(Submission.id) == submission_id)).first()
    if sub is None:
        raise NotFound("没有这条意见，或您无权查看。")
    return sub


def hold_item(session: Session, *, user: AdminUser, submission_id: int, reason: str) -> None:
    """Keep an item from being purged until released (audited with the reason)."""
    reason = reason.strip()
    if not reason:
        raise Invalid("请写明保留的理由（例如：信访复查中）。", field="reason")
    sub = _visible(session, user=user, submission_id=submission_id)
    if session.get(RetentionHold, submission_id) is not None:
        raise Invalid("这条意见已经在保留中。")
    session.add(RetentionHold(submission_id=submission_id, reason=reason[:200], actor_id=user.id))
    record_audit(
        session,
        actor_id=user.id,
        action="retention_hold",
        unit_id=sub.unit_id,
        submission_id=submission_id,
        detail={"reason": reason[:200]},
    )


def release_item(session: Session, *, user: AdminUser, submission_id: int) -> None:
    """End an item's hold: it is purged at the next run if its day has passed (audited)."""
    sub = _visible(session, user=user, submission_id=submission_id)
    hold = session.get(RetentionHold, submission_id)
    if hold is None:
        raise Invalid("这条意见没有被保留。")
    session.delete(hold)
    record_audit(
        session,
        actor_id=user.id,
        action="retention_release",
        unit_id=sub.unit_id,
        submission_id=submission_id,
        detail={"reason": hold.reason},
    )
