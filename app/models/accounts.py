"""Admin accounts, their roles and their server-side login sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class AdminRole(StrEnum):
    bureau_admin = "bureau_admin"
    unit_admin = "unit_admin"
    reviewer = "reviewer"


ADMIN_ROLE_LABELS: dict[AdminRole, str] = {
    AdminRole.bureau_admin: "教育局管理员",
    AdminRole.unit_admin: "学校管理员",
    AdminRole.reviewer: "审核人",
}


class AdminUser(SQLModel, table=True):
    __tablename__ = "admin_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    role: AdminRole = Field(sa_type=String(16))
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    display_name: str = Field(default="", max_length=100)
    # Where 督办 reminders and 催办 notes reach this admin (app/deadlines); optional.
    email: str | None = Field(default=None, max_length=254)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AdminSession(SQLModel, table=True):
    """A server-side login session; the cookie holds a random token, the table its hash."""

    __tablename__ = "admin_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="admin_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
