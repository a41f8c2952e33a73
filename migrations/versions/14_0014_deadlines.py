"""working-day deadlines: calendar overrides, answer times, due dates, timeline, reminders

Adds the admins' corrections of the official calendar (calendar_day), each unit's and
bureau's promised answer and acknowledgement times in working days, the bureau's "extensions
need approval" setting, an admin's email for reminders, every item's promised answer day
(submission.due_on) with its one extension, the handling timeline (submission_event) and the
督办 reminders sent (deadline_reminder). Existing items get their due day from the received day
(China's date) plus five working days. Downgrade drops all of it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from app.workdays.service import add_working_days

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_ANSWER_DAYS = 5


def _columns() -> tuple[tuple[str, sa.Column[object]], ...]:
    # New Column objects each time: one is bound to its table once added.
    return (
        ("bureau", sa.Column("answer_days", sa.Integer(), nullable=False, server_default="5")),
        ("bureau", sa.Column("ack_days", sa.Integer(), nullable=False, server_default="1")),
        (
            "bureau",
            sa.Column("extension_needs_approval", sa.Boolean(), nullable=False, server_default="0"),
        ),
        ("admin_user", sa.Column("email", sa.String(length=254), nullable=True)),
        ("unit", sa.Column("answer_days", sa.Integer(), nullable=False, server_default="5")),
        ("unit", sa.Column("ack_days", sa.Integer(), nullable=False, server_default="1")),
        ("submission", sa.Column("due_on", sa.Date(), nullable=True)),
        ("submission", sa.Column("extension_status", sa.String(length=16), nullable=True)),
        ("submission", sa.Column("extension_due_on", sa.Date(), nullable=True)),
        ("submission", sa.Column("extension_reason", sa.String(length=500), nullable=True)),
    )


def upgrade() -> None:
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "submission_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["admin_user.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_submission_event_submission_id", "submission_event", ["submission_id"])
    op.create_table(
        "deadline_reminder",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("submission_id", "kind"),
    )
    # Plain ALTER TABLE ADD/DROP COLUMN, not batch mode: on SQLite batch mode would copy and
    # drop bureau, unit and submission, which the foreign keys of their rows refuse.
    for table, column in _columns():
        op.add_column(table, column)
    op.create_index("ix_submission_due_on", "submission", ["due_on"])
    _fill_due_days()


def _fill_due_days() -> None:
    # One UPDATE per received day (China's date), not per row.
    bind = op.get_bind()
    sub = sa.table(
        "submission",
        sa.column("created_at", sa.DateTime()),
        sa.column("due_on", sa.Date()),
    )
    first, last = bind.execute(
        sa.select(sa.func.min(sub.c.created_at), sa.func.max(sub.c.created_at))
    ).one()
    if first is None:
        return
    day: date = first.replace(tzinfo=UTC).astimezone(TZ).date()
    end = last.replace(tzinfo=UTC).astimezone(TZ).date()
    while day <= end:
        start = datetime.combine(day, time(0), tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)
        bind.execute(
            sub.update()
            .where(sub.c.created_at >= start, sub.c.created_at < start + timedelta(days=1))
            .values(due_on=add_working_days(day, DEFAULT_ANSWER_DAYS))
        )
        day += timedelta(days=1)


def downgrade() -> None:
    op.drop_index("ix_submission_due_on", table_name="submission")
    for table, column in reversed(_columns()):
        op.drop_column(table, column.name)
    op.drop_table("deadline_reminder")
    op.drop_index("ix_submission_event_submission_id", table_name="submission_event")
    op.drop_table("submission_event")
    op.drop_table("calendar_day")
