"""retrained tagger models in the database

A retrained model was a file under YIJIAN_DATA_DIR, so an app replica on another host kept
tagging with the old one. Models now live in this table and every process follows the newest
row; the shipped model stays a file inside the package. Downgrade drops the table: processes
of the older version fall back to their model folder or the shipped model.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tagger_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=120), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_name"),
    )
    op.create_index("ix_tagger_model_name", "tagger_model", ["name"])


def downgrade() -> None:
    op.drop_index("ix_tagger_model_name", table_name="tagger_model")
    op.drop_table("tagger_model")
