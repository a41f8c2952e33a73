"""Tagging: admin corrections of an item's check, kept as training data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
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


class TaggerModel(SQLModel, table=True):
    """A retrained model, shared by every process through the database (newest wins)."""

    __tablename__ = "tagger_model"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32, index=True)
    # Embeds the UTC training time at fixed width: name order is age order, as for files.
    file_name: str = Field(max_length=120, unique=True)
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
