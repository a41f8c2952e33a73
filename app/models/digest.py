"""Digest to the bureau office (issue 6): per-bureau settings and each day's or week's mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class DigestKind(StrEnum):
    day = "day"
    week = "week"


class DigestStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # next_attempt_at set: will retry; None: given up
    skipped = "skipped"  # nothing new and send_when_empty is off


DIGEST_STATUS_LABELS: dict[DigestStatus, str] = {
    DigestStatus.pending: "待发送",
    DigestStatus.sending: "发送中",
    DigestStatus.sent: "已发送",
    DigestStatus.failed: "发送失败",
    DigestStatus.skipped: "无新内容，未发送",
}


class DigestSetting(SQLModel, table=True):
    __tablename__ = "digest_setting"
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", unique=True)
    recipients: str = ""  # comma-separated addresses
    daily_time: str | None = Field(default=None, max_length=5)  # 'HH:MM', Shanghai time
    weekly_weekday: int | None = None  # 0 = Monday ... 6 = Sunday
    send_when_empty: bool = False
    enabled: bool = True
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Digest(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("bureau_id", "period_kind", "period_key"),)
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    period_kind: DigestKind = Field(sa_type=String(8))
    period_key: str = Field(max_length=10)  # '2026-11-26' or '2026-W48'
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    status: DigestStatus = Field(default=DigestStatus.pending, sa_type=String(16), index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    message_id: str = Field(max_length=255)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    totals: str = ""  # JSON summary of the figures as sent, for the admin page
