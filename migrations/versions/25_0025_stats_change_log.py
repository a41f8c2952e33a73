"""a log of item changes for the stats page's in-memory columns; its three indexes go

The stats page counted by scanning three covering indexes (0015): 0.36 s at 200,000 items.
It now keeps every item's few stats fields in memory (app/stats/store.py) and reads only what
changed since its last look. Triggers on submission log each insert, delete and change of a
counted column to submission_change, whatever writes it. The scans' indexes are no longer
read and cost every insert, so they go. Downgrade drops the log and restores them.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the stats count by (app.stats.store.COLUMNS reads the same).
COUNTED = (
    'unit_id, channel, role, "check", status, created_at, updated_at, first_reply_at, due_on,'
    " to_bureau, masked_text"
)
# Only the UTC day of a change: no precise time of an anonymous sender's act is kept.
SQLITE_LOG = "INSERT INTO submission_change (submission_id, changed_on) VALUES ({}.id, date('now'))"
TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER submission_change_insert AFTER INSERT ON submission"
        f" BEGIN {SQLITE_LOG.format('NEW')}; END",
        f"CREATE TRIGGER submission_change_update AFTER UPDATE OF {COUNTED} ON submission"
        f" BEGIN {SQLITE_LOG.format('NEW')}; END",
        "CREATE TRIGGER submission_change_delete AFTER DELETE ON submission"
        f" BEGIN {SQLITE_LOG.format('OLD')}; END",
    ],
    "postgresql": [
        "CREATE FUNCTION submission_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " INSERT INTO submission_change (submission_id, xid, changed_on) VALUES"
        " (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, txid_current(),"
        " (now() AT TIME ZONE 'UTC')::date); RETURN NULL; END $$",
        "CREATE TRIGGER submission_change_write AFTER INSERT OR DELETE ON submission"
        " FOR EACH ROW EXECUTE FUNCTION submission_change()",
        f"CREATE TRIGGER submission_change_update AFTER UPDATE OF {COUNTED} ON submission"
        " FOR EACH ROW EXECUTE FUNCTION submission_change()",
    ],
}
DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER submission_change_insert",
        "DROP TRIGGER submission_change_update",
        "DROP TRIGGER submission_change_delete",
    ],
    "postgresql": [
        "DROP TRIGGER submission_change_write ON submission",
        "DROP TRIGGER submission_change_update ON submission",
        "DROP FUNCTION submission_change()",
    ],
}
# As 0015 made them.
LOCAL_DAY = {
    "sqlite": "date({}, '+8 hours')",
    "postgresql": "(({} + '08:00:00'::interval)::date)",
}


def upgrade() -> None:
    op.create_table(
        "submission_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=True),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        # Ids are never reused, even once the worker has pruned every row: readers keep
        # the highest they have seen.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_submission_change_xid", "submission_change", ["xid"])
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_index("ix_submission_stats_days", table_name="submission")
    op.drop_index("ix_submission_stats_source", table_name="submission")
    op.drop_index("ix_submission_stats_unit", table_name="submission")


def downgrade() -> None:
    op.create_index(
        "ix_submission_stats_unit",
        "submission",
        ["unit_id", "check", "status", "created_at", "first_reply_at", "updated_at", "due_on"],
    )
    op.create_index(
        "ix_submission_stats_source",
        "submission",
        ["channel", "role", "status", "created_at", "first_reply_at", "unit_id", "due_on"],
    )
    day = LOCAL_DAY[op.get_bind().dialect.name]
    op.create_index(
        "ix_submission_stats_days",
        "submission",
        [
            sa.text(day.format("created_at")),
            "status",
            sa.text(day.format("first_reply_at")),
            sa.text(day.format("updated_at")),
            "due_on",
            "unit_id",
            "created_at",
            "first_reply_at",
            "updated_at",
        ],
    )
    for statement in DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_index("ix_submission_change_xid", table_name="submission_change")
    op.drop_table("submission_change")
