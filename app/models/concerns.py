"""Concerns: every check a letter speaks to, ranked, with the sentences that show each."""

from __future__ import annotations

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel


class SubmissionConcern(SQLModel, table=True):
    """One check an item speaks to; rank 0 is its primary check (submission.check)."""

    __tablename__ = "submission_concern"
    # The queue's 兼涉 filter looks items up by check.
    __table_args__ = (Index("ix_submission_concern_check", "check", "submission_id"),)
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    check: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    rank: int
    # The check's share of the letter's text; None for a check an admin set that the
    # tagger did not see in the letter.
    share: float | None = None
    # JSON list of sentences quoted verbatim from the sender's text (like submission.text,
    # kept and removed with it).
    sentences: str | None = Field(default=None, sa_type=Text)
