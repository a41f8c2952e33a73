"""review_queue

Re-parented onto 0007 (was 0003): written before 0005-0007 landed, applied after them.

Revision ID: 0004
Revises: 0007
Create Date: 2026-11-26 14:45:46.832176
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "internal_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["admin_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("internal_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_internal_note_submission_id"), ["submission_id"], unique=False
        )

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_submission_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index("ix_submission_check_created", ["check", "created_at", "id"], unique=False)
        batch_op.create_index("ix_submission_status_created", ["status", "created_at", "id"], unique=False)
        batch_op.create_index("ix_submission_unit_check_status", ["unit_id", "check", "status"], unique=False)
        batch_op.create_index("ix_submission_unit_created", ["unit_id", "created_at", "id"], unique=False)
        batch_op.create_foreign_key("fk_submission_assignee_id", "admin_user", ["assignee_id"], ["id"])
        batch_op.create_foreign_key("fk_submission_duplicate_of", "submission", ["duplicate_of"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_constraint("fk_submission_duplicate_of", type_="foreignkey")
        batch_op.drop_constraint("fk_submission_assignee_id", type_="foreignkey")
        batch_op.drop_index("ix_submission_unit_created")
        batch_op.drop_index("ix_submission_unit_check_status")
        batch_op.drop_index("ix_submission_status_created")
        batch_op.drop_index("ix_submission_check_created")
        batch_op.drop_index(batch_op.f("ix_submission_assignee_id"))
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("assignee_id")

    with op.batch_alter_table("internal_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_internal_note_submission_id"))

    op.drop_table("internal_note")
