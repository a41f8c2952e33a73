"""Tagging: admin corrections of an item's check, kept as training data."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class TagCorrection(SQLModel, table=True):
    __tablename__ = "tag_correction"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    text: str  # a snapshot: the training example stays even if the item is edited
    old_check: int | None = None
    new_check: int
    actor_id: int | None = Field(default=None, foreign_key="admin_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
