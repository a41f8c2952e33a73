"""submission times cut to the minute

Submissions are now stored with times to the minute (docs/threat-model.md, "Timing"); this
cuts the times already stored: a submission's created_at and updated_at, and its
attachments' created_at. The seconds are gone for good: downgrading changes nothing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("submission", "created_at"),
    ("submission", "updated_at"),
    ("attachment", "created_at"),
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in COLUMNS:
        # SQLite keeps SQLAlchemy's text form, "YYYY-MM-DD HH:MM:SS.ffffff".
        cut = (
            f"strftime('%Y-%m-%d %H:%M:00.000000', {column})"
            if sqlite
            else f"date_trunc('minute', {column})"
        )
        op.execute(f"UPDATE {table} SET {column} = {cut}")  # noqa: S608 (names are constants)


def downgrade() -> None:
    pass
