import asyncio

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.db import Writer


def test_group_commit_isolates_failing_jobs(engine: Engine, database_url: str) -> None:
    writer = Writer(engine, max_batch=64)

    def ok(i: int):  # type: ignore[no-untyped-def]
        def job(s: Session) -> int:
            s.execute(
                text("INSERT INTO bureau (name, created_at) VALUES (:n, CURRENT_TIMESTAMP)"),
                {"n": f"b{i}"},
            )
            return i

        return job

    def boom(s: Session) -> int:
        s.execute(text("INSERT INTO bureau (name, created_at) VALUES ('bad', CURRENT_TIMESTAMP)"))
        raise ValueError("job failed")

    async def main() -> list[object]:
        jobs = [writer.run(ok(i)) for i in range(50)] + [writer.run(boom)]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(main())
    writer.close()
    assert results[:50] == list(range(50))
    assert isinstance(results[50], ValueError)
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(text("SELECT name FROM bureau"))]
    assert len(names) == 50 and "bad" not in names


def test_sqlite_is_durable(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
