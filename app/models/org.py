"""The organisation: a county education bureau and its units (schools)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class Bureau(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    # Promised answer and acknowledgement times in working days, for the bureau's own items.
    answer_days: int = 5
    ack_days: int = 1
    extension_needs_approval: bool = False
    reply_signoff: bool = False  # 答复需审核 for units that have not chosen for themselves


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    answer_days: int = 5
    ack_days: int = 1
