"""reply mails through the outbox

An admin's reply to a named sender's email address goes through ack_outbox like an inbound
mail's acknowledgement, so a failed send is retried by the worker instead of being lost.
"kind" tells the two apart: the one-acknowledgement-per-hour limit counts only acks.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ack_outbox") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="ack")
        )


def downgrade() -> None:
    # Pending replies stay: the older worker sends every pending row alike.
    with op.batch_alter_table("ack_outbox") as batch:
        batch.drop_column("kind")
