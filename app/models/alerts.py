"""Urgent items (紧急): the flag raised at intake, duty addresses, and alerts sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow

URGENT_CATEGORIES: dict[str, str] = {
    "bullying": "校园欺凌",
    "corporal": "体罚/打骂学生",
    "sexual": "性骚扰/猥亵",
    "selfharm": "自残/轻生",
    "food": "食物中毒/食品安全",
    "building": "校舍/校车安全隐患",
    "missing": "学生失联",
}
URGENT_LABEL = "紧急"
CLEARED_LABEL = "解除"


class UrgentFlag(SQLModel, table=True):
    """One per flagged item; a cleared flag stays (with its reason) as a false-alarm example."""

    __tablename__ = "urgent_flag"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", unique=True)
    categories: str  # JSON list of URGENT_CATEGORIES keys
    evidence: str  # JSON list of the phrases that fired
    source: str = Field(max_length=16)  # "lexicon" or "model"
    score: float = 0.0
    cleared: bool = Field(default=False, index=True)
    cleared_reason: str | None = Field(default=None, max_length=500)
    cleared_by: int | None = Field(default=None, foreign_key="admin_user.id")
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class AlertContact(SQLModel, table=True):
    """The duty address (and optional group-robot webhook) of one unit or one bureau."""

    __tablename__ = "alert_contact"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", unique=True)
    bureau_id: int | None = Field(default=None, foreign_key="bureau.id", unique=True)
    email: str | None = Field(default=None, max_length=254)
    webhook: str | None = Field(default=None, max_length=500)


class AlertDelivery(SQLModel, table=True):
    """An alert handed on for one item and one target: the unique pair makes it once. A mail
    goes on through the outbox (status "outbox"); a group-robot webhook is posted from here,
    claimed and retried like the outbox ("queued" until "sent" or "failed")."""

    __tablename__ = "alert_delivery"
    __table_args__ = (UniqueConstraint("submission_id", "target"),)
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    target: str = Field(max_length=500)  # "mail:ADDRESS", "hook:URL" or "none:"
    outbox_id: int | None = None
    status: str = Field(default="outbox", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
