"""The audit log of admin actions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="admin_user.id", index=True)
    action: str = Field(max_length=64, index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    detail: str = ""
