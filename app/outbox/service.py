"""The outbox: acknowledgements and reply mails queued in the transaction that caused them.

The worker (outbox/jobs.py) sends what is due. An address and its message are kept only
until that one mail is sent or has failed for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.errors import Unavailable
from app.intake import receipts
from app.mail.outbound import MailSendError, SmtpMailSender
from app.models import OutboxKind, OutboxMail, OutboxStatus, utcnow

MAX_SEND_ATTEMPTS = 8


def sender_hash(*, secret: str, address: str) -> str:
    """The keyed hash of a sender address: enough to rate-limit, not to recover it. Kept in
    memory only (app/inbox/ingest.py AckGuard), never in a row."""
    return receipts.keyed_hash(secret=secret, purpose="mail-sender", value=address.lower())


def queue_mail(
    session: Session,
    *,
    kind: OutboxKind,
    submission_id: int,
    to_addr: str,
    message: EmailMessage,
    send_at: datetime,
) -> int:
    """Put a mail in the outbox in this transaction; the worker sends it from send_at on."""
    row = OutboxMail(
        kind=kind,
        submission_id=submission_id,
        to_addr=to_addr,
        message=message.as_bytes(),
        message_id=str(message["Message-ID"]),
        created_at=utcnow(),
        next_attempt_at=send_at,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


@dataclass(frozen=True)
class PendingMail:
    id: int
    message: EmailMessage


# How long a claimed mail is left to the worker that claimed it: longer than a batch takes
# even when every send waits out the SMTP timeout (CLAIM_BATCH x 30 s). Should that worker
# die between claim and mark, the mail is sent again after this (at least once).
CLAIM_LEASE = timedelta(minutes=15)
CLAIM_BATCH = 10


def claim_due_mail(
    session: Session, *, now: datetime, lease: timedelta = CLAIM_LEASE, limit: int = CLAIM_BATCH
) -> list[PendingMail]:
    """Take queued mails (acknowledgements, replies) whose send time has come: each is
    moved `lease` into the future, so no other worker sends it meanwhile.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets concurrent workers take disjoint rows. SQLite
    ignores FOR UPDATE; there the session must run on core.db.claim_engine (BEGIN
    IMMEDIATE), which serialises claimers on the write lock.
    """
    rows = session.exec(
        select(OutboxMail.id, OutboxMail.message)
        .where(
            OutboxMail.status == OutboxStatus.pending,
            col(OutboxMail.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMail.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    session.execute(
        update(OutboxMail)
        .where(col(OutboxMail.id).in_([mail_id for mail_id, _ in rows]))
        .values(next_attempt_at=now + lease)
    )
    parser = BytesParser(policy=policy.default)
    result = []
    for mail_id, data in rows:
        assert mail_id is not None and data is not None
        parsed = parser.parsebytes(data)
        assert isinstance(parsed, EmailMessage)
        result.append(PendingMail(mail_id, parsed))
    return result


def mark_mail_sent(session: Session, *, mail_id: int) -> None:
    """Sent: forget the address and the message (which holds the receipt)."""
    session.execute(
        update(OutboxMail)
        .where(col(OutboxMail.id) == mail_id)
        .values(status=OutboxStatus.sent, sent_at=utcnow(), to_addr=None, message=None)
    )


def send_error(exc: MailSendError) -> str:
    """What to keep of a failed send: the SMTP code only (the text can name the recipient)."""
    return f"SMTP {'temporary' if exc.temporary else 'permanent'} failure {exc.code or ''}".strip()


def mark_mail_failed(session: Session, *, mail_id: int, error: str, temporary: bool) -> bool:
    """Retry later with back-off, or give up (and forget the address); True when given up."""
    mail = session.get(OutboxMail, mail_id)
    if mail is None:
        return True
    mail.attempts += 1
    mail.last_error = error[:500]
    if temporary and mail.attempts < MAX_SEND_ATTEMPTS:
        mail.next_attempt_at = utcnow() + timedelta(minutes=min(2**mail.attempts, 360))
        session.add(mail)
        return False
    mail.status, mail.to_addr, mail.message = OutboxStatus.failed, None, None
    session.add(mail)
    return True


def sender_from_settings(settings: Settings) -> SmtpMailSender | None:
    """The SMTP sender configured by YIJIAN_SMTP_*; None when no server is set."""
    if not settings.smtp_host:
        return None
    return SmtpMailSender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_security,
        settings.smtp_user,
        settings.smtp_password,
    )


def require_sender(settings: Settings) -> SmtpMailSender:
    """The configured SMTP sender, or Unavailable (a Chinese message) when there is none."""
    sender = sender_from_settings(settings)
    if sender is None:
        raise Unavailable("没有配置发信服务器（YIJIAN_SMTP_HOST），无法发送邮件。")
    return sender
