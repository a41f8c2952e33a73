"""Email intake: mailboxes, turning fetched messages into submissions, acknowledgements.

The poller (app/inbox/jobs.py) fetches and commits; everything here runs inside its transaction.
Addresses are never logged, and an anonymous sender's address is kept only in the
acknowledgement outbox until that one message is sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from app.campaign.service import get_unit
from app.core.config import Settings
from app.core.errors import Closed, Conflict, Invalid, NotFound, TooLarge, Unsupported
from app.intake import receipts
from app.intake.service import (
    MAX_NAME,
    NewSubmission,
    Stored,
    clean_text,
    store_submission,
    validate_submission,
)
from app.intake.uploads import CleanFile, clean_upload
from app.mail.compose import build_ack
from app.mail.parse import MalformedMail, ParsedMail, parse_message, strip_anonymous_marker
from app.mail.security import SECURITIES
from app.models import (
    AckOutbox,
    Channel,
    InboundMessage,
    InboundStatus,
    MailboxConfig,
    OutboxKind,
    Role,
    Submission,
    SubmissionFollowup,
    Unit,
    utcnow,
)
from app.outbox.service import queue_mail, sender_hash
from app.tagging import Tagger
from app.units.service import default_bureau

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
ACK_INTERVAL = timedelta(hours=1)
ENV_MAILBOX = "env"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SUBJECT_TAG = re.compile(r"^\s*(?:【([^】]{1,100})】|\[([^\]]{1,100})\]|［([^］]{1,100})］)\s*")

# Reasons are stored as short codes; these are what an admin reads.
REASON_LABELS: dict[str, str] = {
    "bounce": "退信",
    "feedback-report": "投诉报告",
    "read-receipt": "已读回执",
    "report": "系统报告",
    "auto-reply": "自动回复",
    "auto-submitted": "系统自动发送",
    "bulk": "群发邮件",
    "list": "邮件列表",
    "system-notice": "邮箱系统通知",
    "no-reply-sender": "不接收回复的发件地址",
    "null-sender": "空发件人（系统邮件）",
    "no-unit": "无法确定所属学校",
    "malformed": "无法解析的邮件",
    "too-large": "超过 10 MB",
    "invalid": "内容不符合要求",
    "channel-closed": "邮件渠道当前未开放",
    "message-id": "同一封邮件已收录",
    "error": "处理出错",
    "dropped": "部分附件未保留",
}


def reason_label(reason: str) -> str:
    """The Chinese reading of a stored reason code (its detail after the colon kept)."""
    parts = []
    for item in reason.split("; "):
        code, _, detail = item.partition(":")
        label = REASON_LABELS.get(code, code)
        parts.append(f"{label}（{detail}）" if detail else label)
    return "；".join(p for p in parts if p)


# --- mailboxes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxSpec:
    name: str
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str = "INBOX"
    unit_slug: str | None = None
    anonymous: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class MailboxLogin:
    """What the poller needs to log in, detached from any session."""

    id: int
    name: str
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str


def _checked_unit(session: Session, *, spec: MailboxSpec, bureau_id: int) -> int | None:
    if not _NAME.match(spec.name):
        raise Invalid("邮箱名称只能用字母、数字、点、下划线和连字符，1-64位。", field="name")
    if not spec.host.strip() or len(spec.host) > 255 or any(c.isspace() for c in spec.host):
        raise Invalid("请填写正确的收信服务器地址，例如 imap.qq.com。", field="host")
    if not 1 <= spec.port <= 65535:
        raise Invalid("端口应在 1 到 65535 之间（SSL 一般是 993）。", field="port")
    if spec.security not in SECURITIES:
        raise Invalid(f"加密方式只能是 {'、'.join(SECURITIES)}。", field="security")
    if not spec.username.strip() or len(spec.username) > 254:
        raise Invalid("请填写邮箱账号。", field="username")
    if len(spec.password) > 255:
        raise Invalid("授权码过长。", field="password")
    if not spec.folder.strip() or len(spec.folder) > 200:
        raise Invalid("请填写要读取的文件夹，一般是 INBOX。", field="folder")
    if not spec.unit_slug:
        return None
    unit = get_unit(session, slug=spec.unit_slug)
    if unit.bureau_id != bureau_id:
        raise Invalid("默认单位不属于本教育局。", field="unit")
    return unit.id


def add_mailbox(
    session: Session, *, spec: MailboxSpec, bureau_id: int | None = None
) -> MailboxConfig:
    """Add a mailbox to poll; the name is how the CLI and pages refer to it."""
    if bureau_id is None:
        bureau_id = default_bureau(session).id
    assert bureau_id is not None
    unit_id = _checked_unit(session, spec=spec, bureau_id=bureau_id)
    if not spec.password:
        raise Invalid("请填写邮箱的授权码（客户端专用密码）。", field="password")
    if session.exec(select(MailboxConfig).where(MailboxConfig.name == spec.name)).first():
        raise Conflict(f"邮箱名称 {spec.name} 已被使用。", field="name")
    box = MailboxConfig(
        bureau_id=bureau_id,
        unit_id=unit_id,
        name=spec.name,
        host=spec.host.strip(),
        port=spec.port,
        security=spec.security,
        username=spec.username.strip(),
        password=spec.password,
        folder=spec.folder.strip(),
        anonymous=spec.anonymous,
        enabled=spec.enabled,
    )
    session.add(box)
    session.flush()
    return box


def update_mailbox(session: Session, *, mailbox_id: int, spec: MailboxSpec) -> MailboxConfig:
    """Change a mailbox's settings; an empty password keeps the stored one."""
    box = session.get(MailboxConfig, mailbox_id)
    if box is None:
        raise NotFound("没有这个邮箱。")
    unit_id = _checked_unit(session, spec=spec, bureau_id=box.bureau_id)
    clash = session.exec(
        select(MailboxConfig.id).where(
            MailboxConfig.name == spec.name, MailboxConfig.id != mailbox_id
        )
    ).first()
    if clash is not None:
        raise Conflict(f"邮箱名称 {spec.name} 已被使用。", field="name")
    moved = (box.host, box.username, box.folder) != (
        spec.host.strip(),
        spec.username.strip(),
        spec.folder.strip(),
    )
    box.name, box.host, box.port = spec.name, spec.host.strip(), spec.port
    box.security, box.username, box.folder = spec.security, spec.username.strip(), spec.folder
    box.unit_id, box.anonymous, box.enabled = unit_id, spec.anonymous, spec.enabled
    if spec.password:
        box.password = spec.password
    if moved:
        # Another account or folder: its UIDs have nothing to do with the stored ones.
        box.last_uidvalidity, box.last_uid = None, 0
    session.add(box)
    session.flush()
    return box


def get_mailbox(session: Session, *, name: str) -> MailboxConfig:
    """The mailbox with this name, or NotFound."""
    box = session.exec(select(MailboxConfig).where(MailboxConfig.name == name)).first()
    if box is None:
        raise NotFound(f"没有名为 {name} 的邮箱。")
    return box


def list_mailboxes(session: Session, *, bureau_id: int | None = None) -> list[MailboxConfig]:
    """Every mailbox (of one bureau when given), by name."""
    query = select(MailboxConfig).order_by(col(MailboxConfig.name))
    if bureau_id is not None:
        query = query.where(MailboxConfig.bureau_id == bureau_id)
    return list(session.exec(query).all())


def set_mailbox_enabled(session: Session, *, name: str, enabled: bool) -> MailboxConfig:
    """Start or stop polling a mailbox; its records stay."""
    box = get_mailbox(session, name=name)
    box.enabled = enabled
    session.add(box)
    return box


def remove_mailbox(session: Session, *, name: str) -> None:
    """Delete a mailbox that never received anything; one with records can only be disabled."""
    box = get_mailbox(session, name=name)
    used = session.exec(
        select(InboundMessage.id).where(InboundMessage.mailbox_id == box.id)
    ).first()
    if used is not None:
        # Its records are what keeps a re-added mailbox from ingesting everything again.
        raise Conflict(f"邮箱 {name} 已有收信记录，不能删除，只能停用（yijian inbox disable）。")
    session.delete(box)


def upsert_env_mailbox(session: Session, *, settings: Settings) -> MailboxConfig | None:
    """Mirror the YIJIAN_IMAP_* mailbox into the table (name "env"); None when not configured."""
    if not settings.imap_host or not settings.imap_user:
        return None
    spec = MailboxSpec(
        name=ENV_MAILBOX,
        host=settings.imap_host,
        port=settings.imap_port,
        security=settings.imap_security,
        username=settings.imap_user,
        password=settings.imap_password or "",
        folder=settings.imap_folder,
        unit_slug=settings.imap_unit,
    )
    existing = session.exec(select(MailboxConfig).where(MailboxConfig.name == ENV_MAILBOX)).first()
    if existing is None:
        return add_mailbox(session, spec=spec)
    assert existing.id is not None
    return update_mailbox(session, mailbox_id=existing.id, spec=spec)


def enabled_logins(session: Session) -> list[MailboxLogin]:
    """Login details of every enabled mailbox."""
    rows = session.exec(
        select(MailboxConfig)
        .where(col(MailboxConfig.enabled).is_(True))
        .order_by(col(MailboxConfig.id))
    ).all()
    return [
        MailboxLogin(
            id=b.id or 0,
            name=b.name,
            host=b.host,
            port=b.port,
            security=b.security,
            username=b.username,
            password=b.password,
            folder=b.folder,
        )
        for b in rows
    ]


def start_pass(session: Session, *, mailbox_id: int, uidvalidity: int) -> tuple[int, list[int]]:
    """Begin a poll of a selected folder: (last UID stored, UIDs whose \\Seen flag is owed)."""
    box = session.get(MailboxConfig, mailbox_id)
    if box is None:
        raise NotFound("没有这个邮箱。")
    if box.last_uidvalidity != uidvalidity:
        # The server renumbered the folder: old UIDs mean nothing. Message-ID dedup keeps
        # the re-fetched messages from being stored twice.
        box.last_uidvalidity, box.last_uid = uidvalidity, 0
        session.add(box)
    owed = session.exec(
        select(InboundMessage.uid)
        .where(
            InboundMessage.mailbox_id == mailbox_id,
            InboundMessage.uidvalidity == uidvalidity,
            col(InboundMessage.seen).is_(False),
        )
        .order_by(col(InboundMessage.uid))
    ).all()
    return box.last_uid, list(owed)


def advance_mailbox(session: Session, *, mailbox_id: int, last_uid: int) -> None:
    """Remember that every UID up to last_uid has been handled."""
    session.execute(
        update(MailboxConfig)
        .where(col(MailboxConfig.id) == mailbox_id, col(MailboxConfig.last_uid) < last_uid)
        .values(last_uid=last_uid)
    )


def mark_recorded_seen(
    session: Session, *, mailbox_id: int, uidvalidity: int, uids: Sequence[int]
) -> None:
    """Note that the server now has \\Seen on these messages."""
    for start in range(0, len(uids), 500):
        session.execute(
            update(InboundMessage)
            .where(
                col(InboundMessage.mailbox_id) == mailbox_id,
                col(InboundMessage.uidvalidity) == uidvalidity,
                col(InboundMessage.uid).in_(list(uids[start : start + 500])),
            )
            .values(seen=True)
        )


def finish_poll(
    session: Session, *, mailbox_id: int, error: str | None, now: datetime | None = None
) -> None:
    """Record when a mailbox was polled and the error, if any (never a password)."""
    session.execute(
        update(MailboxConfig)
        .where(col(MailboxConfig.id) == mailbox_id)
        .values(last_polled_at=now or utcnow(), last_error=error[:500] if error else None)
    )


# --- ingestion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ingested:
    status: InboundStatus
    submission_id: int | None
    acked: bool
    replayed: bool = False
    """True when this UID had been recorded before (a re-run after a crash)."""




def ingest_message(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    ack: bool,
    tagger: Tagger | None = None,
) -> Ingested:
    """Record one fetched message and store what it carries, all or nothing.

    Never raises for anything about the message itself: what cannot be ingested is
    recorded with a reason, so one bad message never stops the poller.
    """
    assert mailbox.id is not None
    earlier = _recorded(session, mailbox_id=mailbox.id, uidvalidity=uidvalidity, uid=uid)
    if earlier is not None:
        return earlier
    try:
        with session.begin_nested():
            return _ingest(
                session,
                settings=settings,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
                uid=uid,
                raw=raw,
                ack=ack,
                tagger=tagger,
            )
    except IntegrityError:
        # Another poller recorded this UID or this Message-ID between our check and insert.
        earlier = _recorded(session, mailbox_id=mailbox.id, uidvalidity=uidvalidity, uid=uid)
        if earlier is not None:
            return earlier
        status, reason = InboundStatus.duplicate, "message-id"
    except SQLAlchemyError:
        raise  # the database itself failed: the tick rolls back and nothing is flagged
    except Exception as exc:
        # A bug meeting odd input: quarantine the message, keep polling, keep the trace.
        log.exception("ingesting UID %s of mailbox %s failed", uid, mailbox.name)
        status, reason = InboundStatus.quarantined, f"error:{type(exc).__name__}"
    with session.begin_nested():
        _record(
            session,
            mailbox=mailbox,
            uidvalidity=uidvalidity,
            uid=uid,
            raw=None if mailbox.anonymous else raw,
            size=len(raw),
            status=status,
            reason=reason,
        )
    return Ingested(status, None, False)


def _recorded(session: Session, *, mailbox_id: int, uidvalidity: int, uid: int) -> Ingested | None:
    row = session.exec(
        select(InboundMessage.status, InboundMessage.submission_id).where(
            InboundMessage.mailbox_id == mailbox_id,
            InboundMessage.uidvalidity == uidvalidity,
            InboundMessage.uid == uid,
        )
    ).first()
    if row is None:
        return None
    return Ingested(InboundStatus(row[0]), row[1], False, replayed=True)


def _record(
    session: Session,
    *,
    mailbox: MailboxConfig,
    uidvalidity: int,
    uid: int,
    size: int,
    status: InboundStatus,
    reason: str = "",
    raw: bytes | None = None,
    dedup: str | None = None,
    mail: ParsedMail | None = None,
    sender: str | None = None,
    anonymous: bool = True,
    submission_id: int | None = None,
) -> None:
    assert mailbox.id is not None
    session.add(
        InboundMessage(
            mailbox_id=mailbox.id,
            uidvalidity=uidvalidity,
            uid=uid,
            dedup_key=dedup,
            status=status,
            reason=reason[:500],
            subject=None if mail is None or anonymous else mail.subject[:300],
            submission_id=submission_id,
            size=size,
            raw=raw,
            sender_hash=sender,
            received_at=_plausible(mail.date) if mail is not None else None,
        )
    )
    session.flush()


def _plausible(when: datetime | None) -> datetime | None:
    # A Date header is whatever the sender wrote; only a sane one is worth keeping.
    if when is None or not 1990 <= when.year <= 2200:
        return None
    return when


def _ingest(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    ack: bool,
    tagger: Tagger | None,
) -> Ingested:
    where: dict[str, Any] = {
        "mailbox": mailbox,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "size": len(raw),
    }
    if len(raw) > MAX_MESSAGE_BYTES:
        _record(session, **where, status=InboundStatus.too_large, reason=f"too-large:{len(raw)}")
        return Ingested(InboundStatus.too_large, None, False)
    try:
        mail = parse_message(raw)
    except MalformedMail as exc:
        _record(
            session,
            **where,
            status=InboundStatus.quarantined,
            reason=f"malformed:{exc.reason}",
            raw=None if mailbox.anonymous else raw,
        )
        return Ingested(InboundStatus.quarantined, None, False)

    secret = settings.secret_key
    dedup = receipts.keyed_hash(secret=secret, purpose="mail-id", value=mail.dedup_key)
    sender = sender_hash(secret=secret, address=mail.from_addr) if mail.from_addr else None
    where.update(mail=mail, sender=sender)
    seen_before = session.exec(
        select(InboundMessage.id).where(InboundMessage.dedup_key == dedup)
    ).first()
    if seen_before is not None:
        # The same mail in another mailbox (a Cc) or after the server renumbered its UIDs.
        _record(session, **where, status=InboundStatus.duplicate, reason="message-id")
        return Ingested(InboundStatus.duplicate, None, False)
    where["dedup"] = dedup
    if mail.automated:
        _record(
            session,
            **where,
            status=InboundStatus.automated,
            reason=mail.automated,
            anonymous=mailbox.anonymous,
        )
        return Ingested(InboundStatus.automated, None, False)

    target = _followup_target(session, secret=secret, mail=mail)
    if target is not None:
        text = clean_text(mail.text)
        if len(text) > settings.max_text_chars:
            _record(session, **where, status=InboundStatus.quarantined, reason="invalid:text")
            return Ingested(InboundStatus.quarantined, None, False)
        session.add(SubmissionFollowup(submission_id=target, channel=Channel.email, text=text))
        _record(session, **where, status=InboundStatus.followup, submission_id=target)
        return Ingested(InboundStatus.followup, target, False)

    unit, subject = _route(session, mailbox=mailbox, mail=mail)
    marked, subject = strip_anonymous_marker(subject)
    subject = subject.strip()
    anonymous = mailbox.anonymous or mail.anonymous or mail.from_addr is None or marked
    keep_raw = None if anonymous else raw
    where["anonymous"] = anonymous
    if unit is None:
        _record(session, **where, status=InboundStatus.quarantined, reason="no-unit", raw=keep_raw)
        return Ingested(InboundStatus.quarantined, None, False)

    body = mail.text.strip()
    text = body if not subject or body.startswith(subject) else f"{subject}\n\n{body}".strip()
    files, dropped = _attachments(mail, anonymous=anonymous, settings=settings)
    name = clean_text(mail.from_name)[:MAX_NAME] or None
    try:
        data = validate_submission(
            text=text,
            role=Role.other.value,
            anonymous=anonymous,
            name=name,
            contact=mail.from_addr,
            max_chars=settings.max_text_chars,
        )
        stored = store_submission(
            session,
            secret=secret,
            new=NewSubmission(slug=unit.slug, channel=Channel.email, data=data, files=files),
            tagger=tagger,
        )
    except Invalid as exc:
        reason = f"invalid:{exc.field or ''}"
        _record(session, **where, status=InboundStatus.quarantined, reason=reason, raw=keep_raw)
        return Ingested(InboundStatus.quarantined, None, False)
    except Closed:
        _record(
            session, **where, status=InboundStatus.closed, reason="channel-closed", raw=keep_raw
        )
        return Ingested(InboundStatus.closed, None, False)
    acked = ack and _queue_ack(
        session, settings=settings, mailbox=mailbox, mail=mail, stored=stored, unit=unit
    )
    _record(
        session,
        **where,
        status=InboundStatus.ingested,
        reason="; ".join(dropped),
        raw=keep_raw,
        submission_id=stored.id,
    )
    return Ingested(InboundStatus.ingested, stored.id, acked)


def _followup_target(session: Session, *, secret: str, mail: ParsedMail) -> int | None:
    """The submission a reply to our acknowledgement belongs to, if it is one."""
    ids = [i for i in (mail.in_reply_to, *mail.references) if i]
    if ids:
        found = session.exec(
            select(AckOutbox.submission_id).where(col(AckOutbox.message_id).in_(ids))
        ).first()
        if found is not None:
            return found
    if mail.receipt_code:
        digest = receipts.hash_receipt(secret=secret, receipt=mail.receipt_code)
        return session.exec(select(Submission.id).where(Submission.receipt_hash == digest)).first()
    return None


def _route(
    session: Session, *, mailbox: MailboxConfig, mail: ParsedMail
) -> tuple[Unit | None, str]:
    """The unit a message is for, and its subject without a unit tag.

    In order: a plus-address naming a unit (yijian+demo@...), a unit's published address,
    a subject tag 【demo】 or [学校名], the mailbox's default unit.
    """
    units = session.exec(select(Unit).where(Unit.bureau_id == mailbox.bureau_id)).all()
    by_slug = {u.slug: u for u in units}
    by_email = {u.email.lower(): u for u in units if u.email}
    for address in mail.recipients:
        local = address.partition("@")[0]
        if "+" in local and local.split("+", 1)[1] in by_slug:
            return by_slug[local.split("+", 1)[1]], mail.subject
        if address in by_email:
            return by_email[address], mail.subject
    match = _SUBJECT_TAG.match(mail.subject)
    if match:
        tag = next(g for g in match.groups() if g).strip()
        unit = by_slug.get(tag.lower()) or next((u for u in units if u.name == tag), None)
        if unit is not None:
            return unit, mail.subject[match.end() :]
    if mailbox.unit_id is not None:
        return session.get(Unit, mailbox.unit_id), mail.subject
    return None, mail.subject


def _attachments(
    mail: ParsedMail, *, anonymous: bool, settings: Settings
) -> tuple[list[CleanFile], list[str]]:
    """Attachments kept under the web form's limits, and why the others were dropped."""
    files: list[CleanFile] = []
    dropped: list[str] = []
    for attachment in mail.attachments:
        if len(files) >= settings.max_files:
            dropped.append("dropped:too-many")
            continue
        try:
            files.append(
                clean_upload(
                    filename=attachment.filename,
                    data=attachment.data,
                    index=len(files) + 1,
                    anonymous=anonymous,
                    max_bytes=settings.max_upload_bytes,
                )
            )
        except TooLarge:
            dropped.append("dropped:too-large")
        except Unsupported:
            dropped.append(f"dropped:{attachment.content_type}")
    return files, dropped


def _queue_ack(
    session: Session,
    *,
    settings: Settings,
    mailbox: MailboxConfig,
    mail: ParsedMail,
    stored: Stored,
    unit: Unit,
) -> bool:
    """Queue the acknowledgement in this transaction; False when it must not be sent."""
    if mail.from_addr is None:
        return False
    ours = {a.lower() for a in (settings.mail_from, mailbox.username) if a}
    if mail.from_addr in ours:
        return False  # our own mail coming back: answering it would loop
    digest = sender_hash(secret=settings.secret_key, address=mail.from_addr)
    now = utcnow()
    recent = session.exec(
        select(AckOutbox.id).where(
            AckOutbox.kind == OutboxKind.ack,
            AckOutbox.sender_hash == digest,
            col(AckOutbox.created_at) >= now - ACK_INTERVAL,
        )
    ).first()
    if recent is not None:
        return False  # at most one per sender per hour: a flood must not make us a spammer
    from_addr = settings.mail_from or mailbox.username
    message = build_ack(
        to_addr=mail.from_addr,
        in_reply_to=mail.message_id,
        references=mail.references,
        subject=mail.subject,
        # Dashes: header folding may break a subject at spaces.
        receipt_code=receipts.format_receipt(stored.receipt, sep="-"),
        status_url=settings.base_url.rstrip("/") + "/r",
        unit_name=unit.name,
        from_addr=from_addr,
        message_id_domain=from_addr.rpartition("@")[2] or "localhost",
    )
    queue_mail(
        session,
        kind=OutboxKind.ack,
        submission_id=stored.id,
        to_addr=mail.from_addr,
        message=message,
        sender_digest=digest,
        send_at=now,
    )
    return True




# --- acknowledgements --------------------------------------------------------------------












# --- for admins --------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundView:
    id: int
    mailbox: str
    status: InboundStatus
    reason: str
    subject: str | None
    size: int
    created_at: datetime


def list_unprocessed(session: Session, *, bureau_id: int, limit: int = 100) -> list[InboundView]:
    """Recent messages recorded but not ingested (automated, quarantined, too large, closed)."""
    skipped = (
        InboundStatus.automated,
        InboundStatus.quarantined,
        InboundStatus.too_large,
        InboundStatus.closed,
    )
    rows = session.exec(
        select(InboundMessage, MailboxConfig.name)
        .join(MailboxConfig, col(MailboxConfig.id) == InboundMessage.mailbox_id)
        .where(
            MailboxConfig.bureau_id == bureau_id,
            col(InboundMessage.status).in_([s.value for s in skipped]),
        )
        .order_by(col(InboundMessage.id).desc())
        .limit(limit)
    ).all()
    return [
        InboundView(
            id=m.id or 0,
            mailbox=name,
            status=InboundStatus(m.status),
            reason=reason_label(m.reason),
            subject=m.subject,
            size=m.size,
            created_at=m.created_at,
        )
        for m, name in rows
    ]
