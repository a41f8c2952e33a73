"""Named senders' rights (see what is held, remove one's name) and the privacy notice's facts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.accounts.access import select_visible_submissions
from app.audit.service import record_audit
from app.core.config import Settings
from app.core.errors import Invalid, NotFound
from app.core.time import TZ, to_minute
from app.intake import receipts
from app.models import AdminUser, Attachment, Reply, Submission, Unit
from app.models.retention import DEFAULT_ARCHIVE_DAYS, DEFAULT_PURGE_DAYS
from app.models.submission import STATUS_LABELS, Status
from app.retention.service import PolicyView, check_receipt_active, list_policies


@dataclass(frozen=True)
class Notice:
    """What the privacy notice states, taken from the running settings."""

    key_apart: bool  # the data key is configured outside the database's machine folder
    max_files: int
    max_upload_mb: int
    email_intake: bool
    retention: list[PolicyView]


def describe_notice(session: Session, *, settings: Settings) -> Notice:
    """The facts the privacy notice (隐私说明) is written from."""
    return Notice(
        key_apart=settings.has_data_key,
        max_files=settings.max_files,
        max_upload_mb=settings.max_upload_mb,
        email_intake=settings.imap_host is not None,
        # Before the first bureau exists the defaults are what will apply.
        retention=list_policies(session)
        or [PolicyView(0, "", DEFAULT_PURGE_DAYS, DEFAULT_ARCHIVE_DAYS)],
    )


def _by_receipt(session: Session, *, secret: str, receipt: str) -> Submission:
    digest = receipts.hash_receipt(secret=secret, receipt=receipts.parse_receipt(receipt))
    sub = session.exec(select(Submission).where(Submission.receipt_hash == digest)).first()
    if sub is None:
        raise NotFound("没有找到这个回执码对应的意见，请核对后重新输入。")
    check_receipt_active(session, submission=sub)
    return sub


def _local(at: datetime) -> str:
    return to_minute(at).astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def _sender_data(session: Session, sub: Submission) -> bytes:
    unit = session.get(Unit, sub.unit_id)
    files = session.exec(
        select(Attachment.filename, Attachment.content_type, Attachment.size)
        .where(Attachment.submission_id == sub.id)
        .order_by(col(Attachment.id))
    ).all()
    replies = session.exec(
        select(Reply)
        .where(Reply.submission_id == sub.id, col(Reply.is_public).is_(True))
        .order_by(col(Reply.created_at))
    ).all()
    held = {
        "说明": "本文件是意见箱保存的、与您这条意见有关的全部个人信息。",
        "单位": unit.name if unit else "",
        "提交时间": _local(sub.created_at),
        "身份": sub.role,
        "实名": not sub.anonymous,
        "姓名": sub.name,
        "联系方式": sub.contact,
        "意见内容": sub.text,
        "处理状态": STATUS_LABELS[Status(sub.status)],
        "附件": [{"文件名": f, "类型": t, "大小（字节）": s} for f, t, s in files],
        "答复": [{"时间": _local(r.created_at), "内容": r.body} for r in replies],
    }
    return json.dumps(held, ensure_ascii=False, indent=2).encode()


def export_sender_data(session: Session, *, secret: str, receipt: str) -> bytes:
    """What the service holds about the submission of this receipt, as UTF-8 JSON."""
    return _sender_data(session, _by_receipt(session, secret=secret, receipt=receipt))


def _forget(session: Session, sub: Submission, *, actor_id: int | None, reason: str) -> None:
    if sub.anonymous and sub.name is None and sub.contact is None:
        raise Invalid("这条意见已经是匿名的，没有保存姓名和联系方式。")
    sub.name, sub.contact, sub.anonymous = None, None, True
    session.add(sub)
    # The audit says that it happened and why, never the values removed.
    record_audit(
        session,
        actor_id=actor_id,
        action="forget_sender",
        unit_id=sub.unit_id,
        submission_id=sub.id,
        detail={"reason": reason},
    )


def forget_sender(session: Session, *, secret: str, receipt: str) -> int:
    """Remove the name and contact of the submission of this receipt (it becomes anonymous)."""
    sub = _by_receipt(session, secret=secret, receipt=receipt)
    _forget(session, sub, actor_id=None, reason="发件人凭回执码申请删除姓名和联系方式")
    assert sub.id is not None
    return sub.id


def _visible(session: Session, *, user: AdminUser, submission_id: int) -> Submission:
    query = select_visible_submissions(session, user=user)
    sub = session.scalars(query.where(col(Submission.id) == submission_id)).first()
    if sub is None:
        raise NotFound("没有这条意见，或您无权查看。")
    return sub


def export_sender_data_for_admin(session: Session, *, user: AdminUser, submission_id: int) -> bytes:
    """A sender's data, downloaded by an admin on the sender's request (audited)."""
    sub = _visible(session, user=user, submission_id=submission_id)
    record_audit(
        session,
        actor_id=user.id,
        action="export_sender_data",
        unit_id=sub.unit_id,
        submission_id=sub.id,
        detail={"reason": "应发件人请求导出其个人信息"},
    )
    return _sender_data(session, sub)


def forget_sender_for_admin(
    session: Session, *, user: AdminUser, submission_id: int, reason: str
) -> None:
    """Remove a sender's name and contact on their request, with the admin's reason."""
    if not reason.strip():
        raise Invalid("请写明依据（例如：发件人来电申请）。", field="reason")
    sub = _visible(session, user=user, submission_id=submission_id)
    _forget(session, sub, actor_id=user.id, reason=reason.strip()[:200])
