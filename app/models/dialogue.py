"""The sender dialogue on the receipt (追问 and answers) and 回访 ratings of replies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class ReplyRating(StrEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    unsatisfied = "unsatisfied"


REPLY_RATING_LABELS: dict[ReplyRating, str] = {
    ReplyRating.satisfied: "满意",
    ReplyRating.basically_satisfied: "基本满意",
    ReplyRating.unsatisfied: "不满意",
}


class DialogueMessage(SQLModel, table=True):
    """An admin's question to the sender (追问), or the sender's answer from the receipt page.
    A sender's message keeps its time to the minute and no author."""

    __tablename__ = "dialogue_message"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    from_sender: bool
    author_id: int | None = Field(default=None, foreign_key="admin_user.id")
    body: str
    files: int = 0  # how many cleaned files the sender attached to the item with it
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class DialogueState(SQLModel, table=True):
    """The queue's marks of one item: a sender message no admin has read yet, and 重办."""

    __tablename__ = "dialogue_state"
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    unread: bool = Field(default=False, index=True)
    reopened: int = 0  # how many times an unsatisfied rating reopened the item


class ReplyRatingRow(SQLModel, table=True):
    """The sender's 回访 rating of one reply (at most one each); time to the minute."""

    __tablename__ = "reply_rating"
    id: int | None = Field(default=None, primary_key=True)
    reply_id: int = Field(foreign_key="reply.id", unique=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    rating: ReplyRating = Field(sa_type=String(24))
    comment: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
