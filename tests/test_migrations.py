from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.cli import alembic_config
from app.db import make_engine
from tests.conftest import fresh_database_url


def test_every_migration_goes_up_and_down(database_url: str, tmp_path: Path) -> None:
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
