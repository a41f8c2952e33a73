"""PostgreSQL: log inserted and deleted items once per statement, not per row

Migration 0025's row triggers ran a PL/pgSQL call and an insert for every item; intake
writes its items in multi-row batches, and with two server processes on PostgreSQL two
runs took 13-21 % less than the code before 0025 (a noisy bench; see bench/RESULTS.md). Statement triggers with transition tables log a whole
batch in one insert. Changes of counted columns stay per row (PostgreSQL allows no
transition table on a trigger with a column list). SQLite has only row triggers: nothing
changes there. Downgrade restores the row triggers.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 22:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG_ROWS = (
    "INSERT INTO submission_change (submission_id, xid, changed_on)"
    " SELECT id, txid_current(), (now() AT TIME ZONE 'UTC')::date FROM {}"
)
UPGRADE = [
    "CREATE FUNCTION submission_change_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    f" IF TG_OP = 'DELETE' THEN {LOG_ROWS.format('old_rows')};"
    f" ELSE {LOG_ROWS.format('new_rows')}; END IF; RETURN NULL; END $$",
    "DROP TRIGGER submission_change_write ON submission",
    "CREATE TRIGGER submission_change_insert AFTER INSERT ON submission"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION submission_change_rows()",
    "CREATE TRIGGER submission_change_delete AFTER DELETE ON submission"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION submission_change_rows()",
]
DOWNGRADE = [
    "DROP TRIGGER submission_change_insert ON submission",
    "DROP TRIGGER submission_change_delete ON submission",
    "DROP FUNCTION submission_change_rows()",
    "CREATE TRIGGER submission_change_write AFTER INSERT OR DELETE ON submission"
    " FOR EACH ROW EXECUTE FUNCTION submission_change()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
