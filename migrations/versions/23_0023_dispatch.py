"""转办 and 退回: the instruction that came with a dispatched item, and its return

dispatch holds, per item and level (unit: the bureau to a school; handler: a unit admin to
a handler), the latest instruction (交办意见), the wanted answer day and whether the receiver
returned it, with the reason. Downgrade drops the table (the timeline keeps every step).

digest_setting.overdue_workdays goes: the digest's overdue items come from each item's
promised day (submission.due_on) since 0014. Downgrade puts it back at its place, 5.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatch",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("instruction", sa.String(length=1000), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("returned_reason", sa.String(length=500), nullable=True),
        sa.Column("returned_by", sa.Integer(), nullable=True),
        sa.Column("returned_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.ForeignKeyConstraint(["sent_by"], ["admin_user.id"]),
        sa.ForeignKeyConstraint(["returned_by"], ["admin_user.id"]),
        sa.PrimaryKeyConstraint("submission_id", "level"),
    )
    with op.batch_alter_table("digest_setting", recreate="always") as batch_op:
        batch_op.drop_column("overdue_workdays")


def downgrade() -> None:
    # Recreated on both databases, so the column is back between its old neighbours.
    with op.batch_alter_table("digest_setting", recreate="always") as batch_op:
        batch_op.add_column(
            sa.Column("overdue_workdays", sa.Integer(), nullable=False, server_default="5"),
            insert_after="send_when_empty",
        )
    op.drop_table("dispatch")
