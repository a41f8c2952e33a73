"""Reply sign-off (答复需审核) and a unit's reply templates (常用答复)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class ReplySignoff(SQLModel, table=True):
    """A unit's own choice whether its handlers' replies wait for an admin's approval (no
    row: the unit follows its bureau's Bureau.reply_signoff)."""

    __tablename__ = "reply_signoff"
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    required: bool = True


class DraftState(StrEnum):
    pending = "pending"  # 待审核
    returned = "returned"  # 退回修改


DRAFT_STATE_LABELS: dict[DraftState, str] = {
    DraftState.pending: "待审核",
    DraftState.returned: "已退回修改",
}


class ReplyDraft(SQLModel, table=True):
    """A handler's reply waiting for sign-off; never shown or sent until approved, when it
    becomes a Reply and this row goes."""

    __tablename__ = "reply_draft"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="admin_user.id")
    body: str
    is_public: bool = False
    state: DraftState = Field(sa_type=String(16), default=DraftState.pending, index=True)
    comment: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class ReplyTemplate(SQLModel, table=True):
    """A unit's titled stock answer (常用答复) the reply form offers."""

    __tablename__ = "reply_template"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    title: str = Field(max_length=100)
    body: str
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
