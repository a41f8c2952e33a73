"""no sender hashes, Date headers or exact sizes kept for anonymous mail

inbound_message.sender_hash and ack_outbox.sender_hash let a backup join an anonymous mail to
a named one from the same address; the one-acknowledgement-per-hour guard now lives in the
poller's memory. Both columns are emptied and their indexes dropped; the columns stay, always
NULL, because dropping a column from the middle of a PostgreSQL table cannot be undone in
place. Rows without a subject are the anonymous ones (a named row keeps its subject): their
raw message and sender's Date header go and their size is rounded up to 64 KiB, as new rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIZE_STEP = 64 * 1024


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_index(batch.f("ix_inbound_message_sender_hash"))
    with op.batch_alter_table("ack_outbox") as batch:
        batch.drop_index(batch.f("ix_ack_outbox_sender_hash"))
        batch.alter_column("sender_hash", existing_type=sa.String(length=64), nullable=True)
    op.execute("UPDATE inbound_message SET sender_hash = NULL")
    op.execute("UPDATE ack_outbox SET sender_hash = NULL")
    op.execute(
        sa.text(
            "UPDATE inbound_message SET received_at = NULL, raw = NULL,"
            " size = ((size + :step - 1) / :step) * :step WHERE subject IS NULL"
        ).bindparams(step=SIZE_STEP)
    )


def downgrade() -> None:
    # The hashes are gone for good: the older code then simply acknowledges a sender again.
    op.execute("UPDATE ack_outbox SET sender_hash = '' WHERE sender_hash IS NULL")
    with op.batch_alter_table("ack_outbox") as batch:
        batch.alter_column("sender_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_index(batch.f("ix_ack_outbox_sender_hash"), ["sender_hash"], unique=False)
    with op.batch_alter_table("inbound_message") as batch:
        batch.create_index(batch.f("ix_inbound_message_sender_hash"), ["sender_hash"], unique=False)
