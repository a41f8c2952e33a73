"""urgent items: flags raised at intake, duty addresses, alert deliveries

Items about bullying, a teacher hitting a child, self-harm, food poisoning and the like are
flagged 紧急 when they arrive and alerted to the unit's and the bureau's duty addresses within
one worker tick. alert_delivery's unique (submission_id, target) makes each alert once.
Downgrade drops the three tables (flags and duty addresses are lost; alert mails already
queued stay in the outbox as kind 'alert').

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "urgent_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("categories", sa.String(), nullable=False),
        sa.Column("evidence", sa.String(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("cleared", sa.Boolean(), nullable=False),
        sa.Column("cleared_reason", sa.String(length=500), nullable=True),
        sa.Column("cleared_by", sa.Integer(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.ForeignKeyConstraint(["cleared_by"], ["admin_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id"),
    )
    op.create_index("ix_urgent_flag_cleared", "urgent_flag", ["cleared"])
    op.create_table(
        "alert_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("bureau_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("webhook", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["bureau_id"], ["bureau.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id"),
        sa.UniqueConstraint("bureau_id"),
    )
    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "target"),
    )
    op.create_index("ix_alert_delivery_submission_id", "alert_delivery", ["submission_id"])
    op.create_index("ix_alert_delivery_status", "alert_delivery", ["status"])


def downgrade() -> None:
    op.drop_index("ix_alert_delivery_status", table_name="alert_delivery")
    op.drop_index("ix_alert_delivery_submission_id", table_name="alert_delivery")
    op.drop_table("alert_delivery")
    op.drop_table("alert_contact")
    op.drop_index("ix_urgent_flag_cleared", table_name="urgent_flag")
    op.drop_table("urgent_flag")
