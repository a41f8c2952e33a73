"""reply sign-off and reply templates

reply_signoff holds the units whose handlers' replies wait for an admin's approval,
reply_draft the replies waiting (or sent back), reply_template each unit's 常用答复.
Downgrade drops the three tables (drafts not yet approved are lost; approved replies are
ordinary replies and stay).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_signoff",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    op.create_table(
        "reply_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["admin_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reply_draft_submission_id", "reply_draft", ["submission_id"])
    op.create_index("ix_reply_draft_state", "reply_draft", ["state"])
    op.create_table(
        "reply_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reply_template_unit_id", "reply_template", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_reply_template_unit_id", table_name="reply_template")
    op.drop_table("reply_template")
    op.drop_index("ix_reply_draft_state", table_name="reply_draft")
    op.drop_index("ix_reply_draft_submission_id", table_name="reply_draft")
    op.drop_table("reply_draft")
    op.drop_table("reply_signoff")
