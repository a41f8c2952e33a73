"""Retention (issue 21): each bureau's periods, admins' holds, purged items, the daily run."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow

# A school office's year: a closed case can come back within the following term (回访, a
# complaint to the bureau, the term-end 汇总上报), so identities stay half a year; senders
# check answers across a whole school year before the receipt gives way to the archive.
DEFAULT_PURGE_DAYS = 180
DEFAULT_ARCHIVE_DAYS = 365


class RetentionPolicy(SQLModel, table=True):
    """A bureau's periods, counted in days from the day an item was closed (办结)."""

    __tablename__ = "retention_policy"
    bureau_id: int = Field(foreign_key="bureau.id", primary_key=True)
    purge_days: int = DEFAULT_PURGE_DAYS
    archive_days: int = DEFAULT_ARCHIVE_DAYS
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class RetentionHold(SQLModel, table=True):
    """An admin's hold: the item is never purged while the row exists (reason: audit log too)."""

    __tablename__ = "retention_hold"
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    reason: str = Field(max_length=200)
    actor_id: int | None = Field(default=None, foreign_key="admin_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class RetentionPurge(SQLModel, table=True):
    """That an item's identifying data was removed, and on which day."""

    __tablename__ = "retention_purge"
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    purged_on: date


class RetentionRun(SQLModel, table=True):
    """The daily run's claim: the primary key lets one worker of many run it per day."""

    __tablename__ = "retention_run"
    day: date = Field(primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
