"""lean submission indexes

Every index costs each insert a B-tree update. These three are leading prefixes of the
composite indexes of 0004 (unit_id of ix_submission_unit_created, check of
ix_submission_check_created, status of ix_submission_status_created), which serve the
same lookups, so they only slowed intake.

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-26 17:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDUNDANT = {
    "ix_submission_unit_id": ["unit_id"],
    "ix_submission_check": ["check"],
    "ix_submission_status": ["status"],
}


def upgrade() -> None:
    for name in REDUNDANT:
        op.drop_index(name, table_name="submission")


def downgrade() -> None:
    for name, columns in REDUNDANT.items():
        op.create_index(name, "submission", columns, unique=False)
