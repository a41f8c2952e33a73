"""items for the bureau (局长信箱) and their masked copy

submission.to_bureau marks an item sent straight to the bureau or handed up by its unit: the
unit's admins and reviewers no longer see it. submission.masked_text holds the copy the bureau
forwards to the unit with what identifies the sender masked; the original text is untouched.
Plain add_column / drop_column: a batch rebuild of submission would lose the expression index
ix_submission_stats_days.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "submission",
        sa.Column("to_bureau", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("submission", sa.Column("masked_text", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("submission", "masked_text")
    op.drop_column("submission", "to_bureau")
