"""The outbox of mails to send: inbound-mail receipts and admins' replies by mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from app.core.crypto import EncryptedBytes, EncryptedText
from app.models.base import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class OutboxKind(StrEnum):
    ack = "ack"  # the receipt for an inbound mail
    reply = "reply"  # an admin's answer to a named sender's address
    question = "question"  # an admin's 追问 to a named sender's address
    deadline = "deadline"  # a 督办 reminder or 催办 note to an admin (app/deadlines)
    alert = "alert"  # an urgent item to a unit's or bureau's duty address


class OutboxMail(SQLModel, table=True):
    """A mail to send (see OutboxKind), retried by the worker until it went out or failed for
    good; the address and message are wiped once it is done."""

    __tablename__ = "ack_outbox"
    id: int | None = Field(default=None, primary_key=True)
    kind: OutboxKind = Field(default=OutboxKind.ack, sa_type=String(16))
    submission_id: int = Field(foreign_key="submission.id", index=True)
    to_addr: str | None = Field(default=None, sa_type=EncryptedText)
    message: bytes | None = Field(default=None, sa_column=Column(EncryptedBytes, nullable=True))
    message_id: str = Field(max_length=255, index=True)
    # Always NULL since migration 0012 (no row may link a mail to its sender); the column
    # stays only so that the schema can be downgraded in place.
    sender_hash: str | None = Field(default=None, max_length=64)
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=String(16), index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
