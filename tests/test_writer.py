import asyncio
import threading
import time

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.db import LoopWriter, ThreadWriter, Writer, make_engine, make_writer


def _bureau_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT name FROM bureau"))]


@pytest.mark.parametrize("kind", [ThreadWriter, LoopWriter])
def test_group_commit_isolates_failing_jobs(
    engine: Engine, database_url: str, kind: type[Writer]
) -> None:
    if kind is LoopWriter and engine.dialect.name != "sqlite":
        pytest.skip("the loop writer is for SQLite")
    write_engine = make_engine(database_url, immediate=True)
    writer = kind(write_engine, max_batch=64)

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
    write_engine.dispose()
    assert results[:50] == list(range(50))
    assert isinstance(results[50], ValueError)
    names = _bureau_names(engine)
    assert len(names) == 50 and "bad" not in names


def test_make_writer_suits_the_database(engine: Engine) -> None:
    writer = make_writer(engine)
    try:
        expected = LoopWriter if engine.dialect.name == "sqlite" else ThreadWriter
        assert type(writer) is expected
    finally:
        writer.close()


def test_loop_writer_waits_for_the_lock_without_stopping_the_loop(
    engine: Engine, database_url: str
) -> None:
    """Another process holding the write lock delays the batch, not the event loop."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite locking")
    write_engine = make_engine(database_url, immediate=True)
    writer = LoopWriter(write_engine)
    other = make_engine(database_url)
    locked = threading.Event()

    def hold_lock() -> None:
        with other.begin() as conn:
            conn.execute(
                text("INSERT INTO bureau (name, created_at) VALUES ('x', CURRENT_TIMESTAMP)")
            )
            locked.set()
            time.sleep(0.5)

    def job(s: Session) -> str:
        s.execute(text("INSERT INTO bureau (name, created_at) VALUES ('y', CURRENT_TIMESTAMP)"))
        return "stored"

    async def main() -> tuple[str, int]:
        holder = threading.Thread(target=hold_lock)
        holder.start()
        await asyncio.to_thread(locked.wait)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        result = await writer.run(job)
        ticker.cancel()
        holder.join()
        return result, ticks

    result, ticks = asyncio.run(main())
    writer.close()
    write_engine.dispose()
    other.dispose()
    assert result == "stored"
    # The lock was held for about 0.5 s; a blocked loop would not have ticked meanwhile.
    assert ticks >= 10
    assert sorted(_bureau_names(engine)) == ["x", "y"]


def test_sqlite_is_durable(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
