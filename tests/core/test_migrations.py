from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.cli import alembic_config
from app.core.db import make_engine
from tests.conftest import ROOT, fresh_database_url

# SQLAlchemy does not reflect SQLite's expression indexes (ix_submission_stats_days, 0015);
# the PostgreSQL run compares that one too.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
]


def applied_in_order() -> list[Script]:
    """The revisions from base to head, in the order `alembic upgrade` applies them."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1, f"more than one head: {scripts.get_heads()}"
    return list(reversed(list(scripts.walk_revisions("base", "heads"))))


def schema(engine: Engine) -> dict[str, object]:
    """Tables with their columns, indexes and constraints, to compare before and after."""
    insp = inspect(engine)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)
            ],
            "primary key": insp.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "foreign keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in insp.get_foreign_keys(table)
            ),
        }
        for table in sorted(insp.get_table_names())
        if table != "alembic_version"
    }


def test_file_names_follow_the_apply_order() -> None:
    # NN_<revision>_<slug>.py: NN is the position in the chain, the revision id never changes
    # (databases store it). Sorting the file names must give the order they are applied in.
    chain = applied_in_order()
    applied = [Path(s.path).name for s in chain]
    on_disk = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert on_disk == applied, "file names are not in apply order; see migrations/README.md"
    for position, script in enumerate(chain, start=1):
        prefix = f"{position:02d}_{script.revision}_"
        assert Path(script.path).name.startswith(prefix), (
            f"{Path(script.path).name} is applied as number {position}: name it {prefix}..."
        )


def test_each_migration_goes_up_and_down(database_url: str, tmp_path: Path) -> None:
    # One step at a time: each downgrade must restore the schema its upgrade started from,
    # and the upgrade must run again after it.
    url = fresh_database_url(tmp_path)
    config = alembic_config(url)
    engine = make_engine(url)
    chain = applied_in_order()
    for script in chain:
        before = schema(engine)
        command.upgrade(config, script.revision)
        command.downgrade(config, script.down_revision or "base")
        assert schema(engine) == before, f"downgrading {script.revision} did not undo it"
        command.upgrade(config, script.revision)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == chain[-1].revision
    engine.dispose()


def test_migrations_go_up_to_head_and_down_to_base(database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    config = alembic_config(url)
    command.upgrade(config, "head")
    engine = make_engine(url)
    assert {"submission", "unit", "bureau", "admin_user"} <= set(inspect(engine).get_table_names())
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    engine.dispose()


def test_models_match_migrations(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_0014_gives_existing_items_their_promised_day(database_url: str, tmp_path: Path) -> None:
    # Received 30 September 2026 at 23:30 in China (15:30 UTC): due five working days
    # later on China's calendar, after the National Day week (8, 9, 10, 12, 13 October).
    url = fresh_database_url(tmp_path)
    config = alembic_config(url)
    command.upgrade(config, "0013")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO bureau (name, created_at) VALUES ('局', '2026-09-01')"))
        conn.execute(text(
            "INSERT INTO unit (bureau_id, slug, name, created_at) "
            "VALUES (1, 'demo', '学校', '2026-09-01')"
        ))
        conn.execute(text(
            "INSERT INTO submission (unit_id, channel, kind, role, anonymous, text, status, "
            "receipt_hash, created_at, updated_at) VALUES (1, 'web', 'opinion', '家长', true, "
            "'意见', 'new', 'h1', '2026-09-30 15:30:00', '2026-09-30 15:30:00')"
        ))
    command.upgrade(config, "0014")
    with engine.connect() as conn:
        due = conn.execute(text("SELECT due_on FROM submission")).scalar_one()
    engine.dispose()
    assert str(due) == "2026-10-13"


def test_0023_drops_the_digest_overdue_days_and_keeps_the_setting(
    database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url(tmp_path)
    config = alembic_config(url)
    command.upgrade(config, "0022")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO bureau (name, created_at) VALUES ('局', '2026-09-01')"))
        conn.execute(text(
            "INSERT INTO digest_setting (bureau_id, recipients, send_when_empty, "
            "overdue_workdays, enabled, updated_at) VALUES (1, 'a@x.test', false, 3, true, "
            "'2026-09-01')"
        ))
    command.upgrade(config, "0023")
    columns = {c["name"] for c in inspect(engine).get_columns("digest_setting")}
    assert "overdue_workdays" not in columns and "dispatch" in inspect(engine).get_table_names()
    command.downgrade(config, "0022")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT recipients, overdue_workdays FROM digest_setting")).one()
    engine.dispose()
    assert tuple(row) == ("a@x.test", 5)


def test_0024_adds_concerns_beside_items_and_removes_them(
    database_url: str, tmp_path: Path
) -> None:
    # A plain new table: the submission table (and its expression index) is not rebuilt.
    url = fresh_database_url(tmp_path)
    config = alembic_config(url)
    command.upgrade(config, "0024")
    engine = make_engine(url)
    insp = inspect(engine)
    assert insp.get_pk_constraint("submission_concern")["constrained_columns"] == [
        "submission_id",
        "check",
    ]
    assert ("ix_submission_concern_check", ["check", "submission_id"]) in [
        (i["name"], i["column_names"]) for i in insp.get_indexes("submission_concern")
    ]
    submission = schema(engine)["submission"]
    command.downgrade(config, "0022")
    assert "submission_concern" not in inspect(engine).get_table_names()
    assert schema(engine)["submission"] == submission
    engine.dispose()


def test_0026_keeps_units_signoff_and_drops_only_their_explicit_off(
    database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url(tmp_path)
    config = alembic_config(url)
    command.upgrade(config, "0025")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO bureau (name, created_at) VALUES ('局', '2026-09-01')"))
        for slug in ("a", "b"):
            conn.execute(text(
                "INSERT INTO unit (bureau_id, slug, name, created_at) "
                f"VALUES (1, '{slug}', '{slug}', '2026-09-01')"
            ))
        conn.execute(text("INSERT INTO reply_signoff (unit_id) VALUES (1)"))
    submission = schema(engine)["submission"]
    command.upgrade(config, "0026")
    with engine.begin() as conn:
        # The unit that had it on still has it on; the bureau's default starts off.
        assert conn.execute(text("SELECT required FROM reply_signoff")).scalar_one()
        assert not conn.execute(text("SELECT reply_signoff FROM bureau")).scalar_one()
        conn.execute(text("INSERT INTO reply_signoff (unit_id, required) VALUES (2, false)"))
    assert schema(engine)["submission"] == submission
    command.downgrade(config, "0025")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT unit_id FROM reply_signoff")).scalars().all()
    assert "reply_signoff" not in {c["name"] for c in inspect(engine).get_columns("bureau")}
    engine.dispose()
    assert rows == [1]
