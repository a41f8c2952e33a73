"""inbox: mailboxes, inbound messages, acknowledgement outbox, follow-ups

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-26 14:39:17.406046
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=False),
        sa.Column("password", sa.String(length=255), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("last_polled_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bureau_id"],
            ["bureau.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("mailbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailbox_bureau_id"), ["bureau_id"], unique=False)

    op.create_table(
        "ack_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("to_addr", sa.String(length=254), nullable=True),
        sa.Column("message", sa.LargeBinary(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ack_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ack_outbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ack_outbox_message_id"), ["message_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ack_outbox_sender_hash"), ["sender_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ack_outbox_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ack_outbox_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "inbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("sender_hash", sa.String(length=64), nullable=True),
        sa.Column("seen", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailbox.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
        sa.UniqueConstraint("mailbox_id", "uidvalidity", "uid"),
    )
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_message_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_message_mailbox_id"), ["mailbox_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_message_sender_hash"), ["sender_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inbound_message_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbound_message_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "submission_followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("submission_followup", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_followup_submission_id"), ["submission_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submission_followup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_followup_submission_id"))

    op.drop_table("submission_followup")
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_message_submission_id"))
        batch_op.drop_index(batch_op.f("ix_inbound_message_status"))
        batch_op.drop_index(batch_op.f("ix_inbound_message_sender_hash"))
        batch_op.drop_index(batch_op.f("ix_inbound_message_mailbox_id"))
        batch_op.drop_index(batch_op.f("ix_inbound_message_created_at"))

    op.drop_table("inbound_message")
    with op.batch_alter_table("ack_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ack_outbox_submission_id"))
        batch_op.drop_index(batch_op.f("ix_ack_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_ack_outbox_sender_hash"))
        batch_op.drop_index(batch_op.f("ix_ack_outbox_message_id"))
        batch_op.drop_index(batch_op.f("ix_ack_outbox_created_at"))

    op.drop_table("ack_outbox")
    with op.batch_alter_table("mailbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailbox_bureau_id"))

    op.drop_table("mailbox")
