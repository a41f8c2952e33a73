"""转办 down the hierarchy: the instruction (交办意见) that came with an item, and its 退回."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class DispatchLevel(StrEnum):
    unit = "unit"  # the bureau dispatched its item to the school
    handler = "handler"  # a unit admin assigned the item to a handler


class Dispatch(SQLModel, table=True):
    """The latest dispatch of an item at one level (the history is on the item's timeline);
    returned_at set: the receiver sent it back (退回) with returned_reason."""

    __tablename__ = "dispatch"
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    level: DispatchLevel = Field(sa_type=String(8), primary_key=True)
    instruction: str | None = Field(default=None, max_length=1000)
    due_on: date | None = None  # the day the sender of the dispatch wants it answered by
    sent_by: int | None = Field(default=None, foreign_key="admin_user.id")
    sent_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    returned_reason: str | None = Field(default=None, max_length=500)
    returned_by: int | None = Field(default=None, foreign_key="admin_user.id")
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
