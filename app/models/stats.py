"""The log of changes to items that the stats page's in-memory columns follow (app/stats/store.py).

Rows are written only by database triggers on submission (migration 0025), so every writer is
covered: the ORM, bulk updates, the reply trigger and hand-written SQL alike.
"""

from datetime import date

from sqlalchemy import BigInteger, Column, Date
from sqlmodel import Field, SQLModel


class SubmissionChange(SQLModel, table=True):
    __tablename__ = "submission_change"
    # SQLite: ids never reused, even after the worker pruned every row (readers keep the
    # highest they have seen).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: a deleted item's id is logged too, so that readers drop it.
    submission_id: int
    # PostgreSQL: the writing transaction (txid_current()), so a reader can tell which
    # changes may still be uncommitted; SQLite commits one writer at a time and leaves it NULL.
    xid: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    # The UTC day, written by the trigger; the worker prunes old rows by it. Only the day:
    # a precise time of an anonymous sender's letter or 回访 is stored nowhere.
    changed_on: date = Field(sa_column=Column(Date, nullable=False))
