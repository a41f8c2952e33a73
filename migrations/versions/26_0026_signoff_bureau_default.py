"""a bureau-wide default for reply sign-off, and a unit's explicit "off"

bureau.reply_signoff is the default for units that have not chosen (答复需审核 for every
school at once). reply_signoff.required records a unit's own choice either way, so "off"
can win over the bureau's default; existing rows meant "on". Downgrade drops both columns
and with them the units' explicit "off" rows.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (as 0014): rebuilding bureau, which units point to, is not needed.
    op.add_column(
        "bureau",
        sa.Column("reply_signoff", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "reply_signoff",
        sa.Column("required", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    # A row without the column means "on": the units that chose "off" lose their row.
    op.execute(sa.text("DELETE FROM reply_signoff WHERE NOT required"))
    op.drop_column("reply_signoff", "required")
    op.drop_column("bureau", "reply_signoff")
