"""Email inbox (issue 5): polled mailboxes, every fetched message and senders' follow-ups."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.crypto import EncryptedBytes, EncryptedText
from app.models.base import UTCDateTime, utcnow
from app.models.submission import Channel


class InboundStatus(StrEnum):
    ingested = "ingested"
    automated = "automated"
    quarantined = "quarantined"
    too_large = "too_large"
    followup = "followup"
    duplicate = "duplicate"
    closed = "closed"


INBOUND_STATUS_LABELS: dict[InboundStatus, str] = {
    InboundStatus.ingested: "已收录",
    InboundStatus.automated: "自动邮件（未收录）",
    InboundStatus.quarantined: "无法处理（已隔离）",
    InboundStatus.too_large: "邮件过大（未收录）",
    InboundStatus.followup: "补充内容",
    InboundStatus.duplicate: "重复邮件",
    InboundStatus.closed: "征集未开放（未收录）",
}


class MailboxConfig(SQLModel, table=True):
    """An IMAP mailbox polled for suggestions. The password is an app password (授权码),
    stored encrypted with the data key."""

    __tablename__ = "mailbox"
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    name: str = Field(max_length=64, unique=True)
    host: str = Field(max_length=255)
    port: int
    security: str = Field(max_length=16)
    username: str = Field(max_length=254)
    password: str = Field(sa_type=EncryptedText)
    folder: str = Field(default="INBOX", max_length=200)
    anonymous: bool = False
    enabled: bool = True
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: too big for a PostgreSQL integer.
    last_uidvalidity: int | None = Field(default=None, sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)
    last_polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("mailbox_id", "uidvalidity", "uid"),)
    id: int | None = Field(default=None, primary_key=True)
    mailbox_id: int = Field(foreign_key="mailbox.id", index=True)
    uidvalidity: int = Field(sa_type=BigInteger)
    uid: int = Field(sa_type=BigInteger)
    # Keyed hash of the Message-ID (or of the raw bytes); NULL on rows recording a duplicate.
    dedup_key: str | None = Field(default=None, max_length=64, unique=True)
    status: InboundStatus = Field(sa_type=String(16), index=True)
    reason: str = Field(default="", max_length=500)
    subject: str | None = Field(default=None, max_length=300)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    size: int = 0
    # Raw message, subject, Date (received_at) and exact size: for named senders only; an
    # anonymous row has none of them and its size rounded up (app/inbox/ingest.py _record).
    raw: bytes | None = Field(default=None, sa_column=Column(EncryptedBytes, nullable=True))
    # Always NULL since migration 0012, like OutboxMail.sender_hash.
    sender_hash: str | None = Field(default=None, max_length=64)
    # \Seen is set on the server only after the commit; False means "flag still owed".
    seen: bool = False
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)


class SubmissionFollowup(SQLModel, table=True):
    __tablename__ = "submission_followup"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    channel: Channel = Field(sa_type=String(16))
    text: str
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
