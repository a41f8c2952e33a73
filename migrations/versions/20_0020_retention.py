"""retention

Each bureau's retention periods (retention_policy), admins' holds (retention_hold), the items
whose identifying data was removed (retention_purge) and the daily run's claim
(retention_run). Downgrade drops the four tables; what was purged stays purged.

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-07 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_policy",
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.Column("purge_days", sa.Integer(), nullable=False),
        sa.Column("archive_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["bureau_id"], ["bureau.id"]),
        sa.PrimaryKeyConstraint("bureau_id"),
    )
    op.create_table(
        "retention_hold",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["admin_user.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_table(
        "retention_purge",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("purged_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_table(
        "retention_run",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def downgrade() -> None:
    op.drop_table("retention_run")
    op.drop_table("retention_purge")
    op.drop_table("retention_hold")
    op.drop_table("retention_policy")
