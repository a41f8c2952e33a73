"""evaluations unlinked from their codes; login throttling leaves the database

A code is made (and numbered) in print order, so a sheet handed out in order ties a code to a
person: a rating no longer records which code gave it (evaluation.code_id goes), and a code
records only that it was used, not when (used_at becomes used). Failed logins are now counted
in memory (app/accounts/throttle.py), so admin_user's failed_logins and locked_until go.

Downgrading cannot bring the links back: it refuses while evaluations exist.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation_code") as batch:
        batch.add_column(sa.Column("used", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE evaluation_code SET used = (used_at IS NOT NULL)")
    with op.batch_alter_table("evaluation_code") as batch:
        batch.drop_column("used_at")
    with op.batch_alter_table("evaluation") as batch:
        batch.drop_index("ix_evaluation_code_id")
        batch.drop_column("code_id")
    with op.batch_alter_table("admin_user") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT count(*) FROM evaluation")).scalar_one():
        raise RuntimeError(
            "0010 removed which code gave each evaluation on purpose; "
            "it cannot be downgraded while evaluations exist"
        )
    with op.batch_alter_table("admin_user") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    # Empty, so made again as 0007 made it (its constraints have no names to add them by).
    op.drop_table("evaluation")
    op.create_table(
        "evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["code_id"], ["evaluation_code.id"]),
        sa.ForeignKeyConstraint(["measure_id"], ["measure.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_id", "measure_id"),
    )
    with op.batch_alter_table("evaluation") as batch:
        batch.create_index("ix_evaluation_code_id", ["code_id"], unique=False)
        batch.create_index("ix_evaluation_created_at", ["created_at"], unique=False)
        batch.create_index("ix_evaluation_measure_id", ["measure_id"], unique=False)
    with op.batch_alter_table("evaluation_code") as batch:
        batch.add_column(sa.Column("used_at", sa.DateTime(), nullable=True))
    # The time of use was never kept: the creation time stands in for it.
    op.execute("UPDATE evaluation_code SET used_at = created_at WHERE used")
    with op.batch_alter_table("evaluation_code") as batch:
        batch.drop_column("used")
