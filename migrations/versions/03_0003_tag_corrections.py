"""tag_corrections

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:41:15.538874
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tag_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("old_check", sa.Integer(), nullable=True),
        sa.Column("new_check", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["admin_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tag_correction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tag_correction_submission_id"), ["submission_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tag_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tag_correction_submission_id"))

    op.drop_table("tag_correction")
