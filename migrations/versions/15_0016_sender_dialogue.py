"""sender dialogue on the receipt and reply ratings

Admins ask a sender a question (追问) that the sender answers on the receipt page; the queue
marks items with an unread sender message or reopened by an unsatisfied rating (重办); each
reply can be rated once (回访). Downgrade drops the three tables.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialogue_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("from_sender", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["admin_user.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dialogue_message_submission_id", "dialogue_message", ["submission_id"])
    op.create_table(
        "dialogue_state",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("unread", sa.Boolean(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_index("ix_dialogue_state_unread", "dialogue_state", ["unread"])
    op.create_table(
        "reply_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["reply.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reply_id"),
    )
    op.create_index("ix_reply_rating_submission_id", "reply_rating", ["submission_id"])
    op.create_index("ix_reply_rating_created_at", "reply_rating", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_reply_rating_created_at", table_name="reply_rating")
    op.drop_index("ix_reply_rating_submission_id", table_name="reply_rating")
    op.drop_table("reply_rating")
    op.drop_index("ix_dialogue_state_unread", table_name="dialogue_state")
    op.drop_table("dialogue_state")
    op.drop_index("ix_dialogue_message_submission_id", table_name="dialogue_message")
    op.drop_table("dialogue_message")
