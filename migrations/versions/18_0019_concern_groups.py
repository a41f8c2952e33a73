"""concern groups (同类问题)

Items on the same concern from many senders are grouped: concern_group holds a group and its
lead item, concern_member every item the grouping has looked at (and its group, if any),
concern_band the LSH band hashes of each item's MinHash, keyed for the candidate lookup.
Downgrade drops the three tables; the items themselves are untouched.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "concern_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.Column("lead_submission_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("alerted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["bureau_id"], ["bureau.id"]),
        sa.ForeignKeyConstraint(["lead_submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("concern_group") as batch:
        batch.create_index("ix_concern_group_bureau_id", ["bureau_id"])
        batch.create_index("ix_concern_group_lead_submission_id", ["lead_submission_id"])
    op.create_table(
        "concern_member",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("split", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["concern_group.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    with op.batch_alter_table("concern_member") as batch:
        batch.create_index("ix_concern_member_group", ["group_id", "submission_id"])
    op.create_table(
        "concern_band",
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("bureau_id", "band", "submission_id"),
    )
    with op.batch_alter_table("concern_band") as batch:
        batch.create_index("ix_concern_band_submission_id", ["submission_id"])


def downgrade() -> None:
    with op.batch_alter_table("concern_band") as batch:
        batch.drop_index("ix_concern_band_submission_id")
    op.drop_table("concern_band")
    with op.batch_alter_table("concern_member") as batch:
        batch.drop_index("ix_concern_member_group")
    op.drop_table("concern_member")
    with op.batch_alter_table("concern_group") as batch:
        batch.drop_index("ix_concern_group_lead_submission_id")
        batch.drop_index("ix_concern_group_bureau_id")
    op.drop_table("concern_group")
