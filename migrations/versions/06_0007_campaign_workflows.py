"""campaign_workflows

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 14:43:49.383510
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_override",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("unit_id", "channel"),
    )
    op.create_table(
        "evaluation_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("evaluation_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_code_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("check", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measure_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "roster_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("post", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("token_nonce", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("roster_person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_person_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["evaluation_code.id"],
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measure.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_id", "measure_id"),
    )
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_code_id"), ["code_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_measure_id"), ["measure_id"], unique=False)

    op.create_table(
        "measure_submission",
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measure.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("measure_id", "submission_id"),
    )
    with op.batch_alter_table("measure_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_measure_submission_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["admin_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "roster_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["admin_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_import_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "roster_submission",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["roster_person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    with op.batch_alter_table("roster_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roster_submission_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "meeting_submission",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    with op.batch_alter_table("meeting_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_submission_meeting_id"), ["meeting_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_submission_meeting_id"))

    op.drop_table("meeting_submission")
    with op.batch_alter_table("roster_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_submission_person_id"))

    op.drop_table("roster_submission")
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_import_unit_id"))

    op.drop_table("roster_import")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_unit_id"))

    op.drop_table("meeting")
    with op.batch_alter_table("measure_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measure_submission_submission_id"))

    op.drop_table("measure_submission")
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_measure_id"))
        batch_op.drop_index(batch_op.f("ix_evaluation_created_at"))
        batch_op.drop_index(batch_op.f("ix_evaluation_code_id"))

    op.drop_table("evaluation")
    with op.batch_alter_table("roster_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_person_unit_id"))

    op.drop_table("roster_person")
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measure_unit_id"))

    op.drop_table("measure")
    with op.batch_alter_table("evaluation_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_code_unit_id"))

    op.drop_table("evaluation_code")
    op.drop_table("channel_override")
