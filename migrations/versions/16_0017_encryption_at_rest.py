"""encryption at rest of what identifies a person or opens another system

Named senders' names and contacts, roster emails, pending outbox addresses and messages,
mailbox app passwords (授权码), attachments and named senders' raw mail are encrypted with
the data key (app/core/crypto.py). Text columns become TEXT (the ciphertext is longer than
the old limits, which the input checks keep); existing rows are encrypted in place.
Downgrade decrypts them and restores the old column types. Both need the data key.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence
from contextlib import nullcontext

import sqlalchemy as sa
from alembic import op

from app.core import crypto

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, the type before this revision); LargeBinary columns keep their type.
WIDENED: tuple[tuple[str, str, sa.types.TypeEngine[str]], ...] = (
    ("submission", "name", sa.String(length=100)),
    ("submission", "contact", sa.String(length=200)),
    ("roster_person", "email", sa.String(length=254)),
    ("roster_import", "rows", sa.String()),
    ("ack_outbox", "to_addr", sa.String(length=254)),
    ("mailbox", "password", sa.String(length=255)),
)


def _recode_all(*, encrypt: bool) -> None:
    keyring = crypto.active()
    conn = op.get_bind()
    for table, column, is_text in crypto.ENCRYPTED_COLUMNS:

        def change(stored: str | bytes, is_text: bool = is_text) -> str | bytes:
            if is_text:
                assert isinstance(stored, str)
                return keyring.encrypt_text(stored) if encrypt else keyring.decrypt_text(stored)
            plain = bytes(stored)
            return keyring.encrypt(plain) if encrypt else keyring.decrypt(plain)

        crypto.recode_column(
            lambda: nullcontext(conn),
            table_name=table,
            column_name=column,
            is_text=is_text,
            change=change,
        )


def _change_types(*, to_text: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        _alter(to_text=to_text)
        return
    # SQLite changes a type by rebuilding the table, which its rows' children (attachments,
    # replies) would fail while foreign keys are checked; they can only be switched off
    # outside a transaction, so the rebuild runs in one of its own. The block's connection
    # has already sent our BEGIN (app/core/db.py) and commits at its end.
    with op.get_context().autocommit_block():
        op.execute("COMMIT")
        op.execute("PRAGMA foreign_keys=OFF")
        op.execute("BEGIN")
        _alter(to_text=to_text)
        op.execute("COMMIT")
        op.execute("PRAGMA foreign_keys=ON")
        op.execute("BEGIN")


def _alter(*, to_text: bool) -> None:
    for table, column, before in WIDENED:
        old, new = (before, sa.Text()) if to_text else (sa.Text(), before)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=old, type_=new)


def upgrade() -> None:
    _change_types(to_text=True)
    _recode_all(encrypt=True)


def downgrade() -> None:
    _recode_all(encrypt=False)
    _change_types(to_text=False)
