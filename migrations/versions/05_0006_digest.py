"""digest

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:38:54.967342
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("period_key", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("totals", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bureau_id"],
            ["bureau.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bureau_id", "period_kind", "period_key"),
    )
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_bureau_id"), ["bureau_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_digest_status"), ["status"], unique=False)

    op.create_table(
        "digest_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.String(), nullable=False),
        sa.Column("daily_time", sa.String(length=5), nullable=True),
        sa.Column("weekly_weekday", sa.Integer(), nullable=True),
        sa.Column("send_when_empty", sa.Boolean(), nullable=False),
        sa.Column("overdue_workdays", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bureau_id"],
            ["bureau.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bureau_id"),
    )


def downgrade() -> None:
    op.drop_table("digest_setting")
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_status"))
        batch_op.drop_index(batch_op.f("ix_digest_bureau_id"))

    op.drop_table("digest")
