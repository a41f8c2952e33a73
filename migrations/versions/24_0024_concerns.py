"""concerns: every check an item speaks to

submission_concern holds each item's ranked checks (rank 0 is submission.check) with the
share of the letter and the sentences that show each; indexed by check for the queue's
兼涉 filter. Items stored before have no rows (`yijian tagger concerns --backfill` fills
them). Downgrade drops the table.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 18:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submission_concern",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("check", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("sentences", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("submission_id", "check"),
    )
    op.create_index("ix_submission_concern_check", "submission_concern", ["check", "submission_id"])


def downgrade() -> None:
    op.drop_index("ix_submission_concern_check", table_name="submission_concern")
    op.drop_table("submission_concern")
