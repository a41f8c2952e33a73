"""Mailboxes (收信邮箱): settings, each poll's bookkeeping, and what admins see of skipped mail."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.campaign.service import get_unit
from app.core.config import Settings
from app.core.errors import Conflict, Invalid, NotFound
from app.mail.security import SECURITIES
from app.models import (
    InboundMessage,
    InboundStatus,
    MailboxConfig,
    utcnow,
)
from app.units.service import default_bureau

log = logging.getLogger(__name__)

ENV_MAILBOX = "env"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

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
    "too-large": "超过 10 MB（未下载）",
    "timeout": "处理超时",
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
    anonymous: bool


def _checked_unit(session: Session, *, spec: MailboxSpec, bureau_id: int) -> int | None:
    if not _NAME.match(spec.name):
        raise Invalid("邮箱名称只能用字母、数字、点、下划线和连字符，1-64位。", field="name")
    if not spec.host.strip() or len(spec.host) > 255 or any(c.isspace() for c in spec.host):
        raise Invalid("请填写正确的收信服务器地址，例如 imap.qq.com。", field="host")
    if not 1 <= spec.port <= 65535:
        raise Invalid("端口应在 1 到 65535 之间（SSL 一般是 993）。", field="port")
    if spec.security not in SECURITIES:
        raise Invalid(f"加密方式只能是 {'、'.join(SECURITIES)}。", field="security")
    if spec.security == "none" and not _loopback(spec.host.strip()):
        # Without TLS the 授权码 and every sender's address cross the network in clear text.
        raise Invalid(
            "不加密（none）只能用于本机的收信服务器；请选择 ssl 或 starttls。", field="security"
        )
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


def _loopback(host: str) -> bool:
    """Whether a host names this machine (not resolved: a name could point anywhere)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    """Change a mailbox's settings; an empty password keeps the stored one, unless the
    server, port, encryption or account changes: the stored 授权码 is never sent elsewhere."""
    box = session.get(MailboxConfig, mailbox_id)
    if box is None:
        raise NotFound("没有这个邮箱。")
    unit_id = _checked_unit(session, spec=spec, bureau_id=box.bureau_id)
    login = (spec.host.strip(), spec.port, spec.security, spec.username.strip())
    if login != (box.host, box.port, box.security, box.username) and not spec.password:
        raise Invalid(
            "修改了收信服务器、端口、加密方式或账号，请重新填写授权码。", field="password"
        )
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
    query = select(MailboxConfig).where(MailboxConfig.name == ENV_MAILBOX)
    existing = session.exec(query).first()
    if existing is None:
        try:
            with session.begin_nested():
                return add_mailbox(session, spec=spec)
        except (IntegrityError, Conflict):
            # Another worker starting at the same moment added it first: update theirs.
            existing = session.exec(query).one()
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
            anonymous=b.anonymous,
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
    """Record when a mailbox was polled and the error, if any: a generic reason for the admin
    (jobs.ERROR_LABELS), never the server's reply or a password."""
    session.execute(
        update(MailboxConfig)
        .where(col(MailboxConfig.id) == mailbox_id)
        .values(last_polled_at=now or utcnow(), last_error=error[:500] if error else None)
    )


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
