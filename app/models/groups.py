"""Similar concerns (同类问题): groups of items on one concern and their LSH band hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class ConcernGroup(SQLModel, table=True):
    __tablename__ = "concern_group"
    id: int | None = Field(default=None, primary_key=True)
    bureau_id: int = Field(foreign_key="bureau.id", index=True)
    # The first member: the queue shows the group as this item's row.
    lead_submission_id: int = Field(foreign_key="submission.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    # When the duty addresses were last told it grows fast (app/alerts/growth.py).
    alerted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConcernMember(SQLModel, table=True):
    """One row per item the grouping has looked at; group_id None: alone for now."""

    __tablename__ = "concern_member"
    __table_args__ = (Index("ix_concern_member_group", "group_id", "submission_id"),)
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    group_id: int | None = Field(default=None, foreign_key="concern_group.id")
    # An admin split it out: the grouping leaves it alone from then on.
    split: bool = False


class ConcernBand(SQLModel, table=True):
    """One LSH band of an item's MinHash; the primary key is the candidate lookup's index."""

    __tablename__ = "concern_band"
    bureau_id: int = Field(primary_key=True)
    band: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    submission_id: int = Field(foreign_key="submission.id", primary_key=True, index=True)
