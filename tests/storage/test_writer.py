import asyncio
import fcntl
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from app.campaign.service import IntakeState
from app.core.db import make_engine
from app.core.errors import Conflict
from app.intake.service import Stored, prepare_submissions, store_submissions
from app.models import Submission
from app.storage.writer import (
    BatchWriter,
    LoopWriter,
    Submissions,
    ThreadWriter,
    WriteQueue,
    make_writer,
)
from tests.conftest import TEST_SECRET
from tests.factories import new_submission
from tests.storage import numbered

SUBMISSIONS = Submissions(TEST_SECRET, tagger=None)


def _bureau_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT name FROM bureau"))]


def _in_process(kind: type[BatchWriter], write_engine: Engine) -> BatchWriter:
    if kind is LoopWriter and write_engine.dialect.name != "sqlite":
        pytest.skip("the loop writer is for SQLite")
    return kind(write_engine, SUBMISSIONS, max_batch=64)


@pytest.mark.parametrize("kind", [ThreadWriter, LoopWriter])
def test_group_commit_isolates_failing_jobs(
    engine: Engine, write_engine: Engine, kind: type[BatchWriter]
) -> None:
    writer = _in_process(kind, write_engine)

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
    names = _bureau_names(engine)
    assert len(names) == 50 and "bad" not in names


@pytest.mark.parametrize("kind", [ThreadWriter, LoopWriter])
def test_submissions_share_the_batch_and_fail_alone(
    session: Session, write_engine: Engine, demo_state: IntakeState, kind: type[BatchWriter]
) -> None:
    """A batch's submissions go in together; should that fail, they are stored one by
    one, and only the failing one (here an attachment that is no file) is refused."""
    writer = _in_process(kind, write_engine)
    bad = numbered(0)
    bad.files = [object()]  # type: ignore[list-item]
    conflict = replace(numbered(2), data=numbered(3).data)

    async def main() -> list[object]:
        stores = [writer.store(numbered(i), demo_state) for i in range(1, 20)]
        more = [writer.store(bad, demo_state), writer.store(conflict, demo_state)]
        return await asyncio.gather(*stores, *more, return_exceptions=True)

    results = asyncio.run(main())
    writer.close()
    assert all(isinstance(r, Stored) and not r.replayed for r in results[:19])
    assert isinstance(results[19], AttributeError)
    assert isinstance(results[20], Conflict)
    assert len(session.exec(select(Submission)).all()) == 19


def test_make_writer_suits_the_database(engine: Engine) -> None:
    writer = make_writer(engine, SUBMISSIONS)
    try:
        expected = LoopWriter if engine.dialect.name == "sqlite" else ThreadWriter
        assert type(writer) is expected
    finally:
        writer.close()


def _store_while_locked(database_url: str, hold: Callable[[threading.Event], None]) -> int:
    """Run one LoopWriter job while `hold` keeps a lock for 0.5 s; count loop ticks meanwhile."""
    write_engine = make_engine(database_url, immediate=True)
    writer = LoopWriter(write_engine, SUBMISSIONS)
    locked = threading.Event()

    def job(s: Session) -> str:
        s.execute(text("INSERT INTO bureau (name, created_at) VALUES ('y', CURRENT_TIMESTAMP)"))
        return "stored"

    async def main() -> tuple[str, int]:
        holder = threading.Thread(target=hold, args=(locked,))
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
    assert result == "stored"
    return ticks


def test_loop_writer_waits_for_another_process_without_stopping_the_loop(
    engine: Engine, database_url: str
) -> None:
    """SQLite's lock held elsewhere (a CLI command, say) delays the batch, not the loop."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite locking")
    other = make_engine(database_url)

    def hold(locked: threading.Event) -> None:
        with other.begin() as conn:
            conn.execute(
                text("INSERT INTO bureau (name, created_at) VALUES ('x', CURRENT_TIMESTAMP)")
            )
            locked.set()
            time.sleep(0.5)

    # The lock was held for about 0.5 s; a blocked loop would not have ticked meanwhile.
    assert _store_while_locked(database_url, hold) >= 10
    other.dispose()
    assert sorted(_bureau_names(engine)) == ["x", "y"]


def test_loop_writers_queue_on_the_lock_file(engine: Engine, database_url: str) -> None:
    """Another server process's turn (the lock file) is waited for off the loop too."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite locking")
    path = make_engine(database_url).url.database

    def hold(locked: threading.Event) -> None:
        with open(f"{path}.writer-lock", "ab") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            locked.set()
            time.sleep(0.5)

    assert _store_while_locked(database_url, hold) >= 10
    assert _bureau_names(engine) == ["y"]


def test_a_turn_ends_with_its_transaction(write_engine: Engine) -> None:
    """commit() and rollback() both pass the lock file on to the next process."""
    if write_engine.dialect.name != "sqlite":
        pytest.skip("SQLite locking")
    turns = WriteQueue(write_engine)
    with open(f"{write_engine.url.database}.writer-lock", "ab") as other:
        for end in (turns.commit, turns.rollback):
            with Session(write_engine) as session:
                turns.begin(session)
                with pytest.raises(BlockingIOError):
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                end(session)
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(other, fcntl.LOCK_UN)
    turns.close()


def test_sqlite_is_durable(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_submissions_in_a_batch_go_in_key_order(demo_state: IntakeState) -> None:
    """Two processes with overlapping keys lock the unique index in one order."""
    arrived = [numbered(i) for i in (5, 2, 9, 1)] + [new_submission(text="无请求编号")]
    batch = prepare_submissions(
        secret=TEST_SECRET, items=[(new, demo_state) for new in arrived], tagger=None
    )
    assert [p.new.idempotency_key for p in batch.fresh] == [
        "grp-000001", "grp-000002", "grp-000005", "grp-000009", None
    ]


def test_a_key_held_by_another_process_is_waited_for_not_refused(
    engine: Engine, demo_state: IntakeState
) -> None:
    """Another process holds the same key in an open transaction past our lock timeout
    (as in a deadlock, where PostgreSQL cancels one side): we try again, and once it has
    committed we answer with its receipt instead of "not saved"."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers queue on the write lock: no lock waits between rows")
    item = (numbered(1), demo_state)
    results: list[object] = []
    with Session(engine) as other, Session(engine) as ours:
        store_submissions(other, secret=TEST_SECRET, items=[item])  # not committed

        def store() -> None:
            ours.execute(text("SET lock_timeout = '300ms'"))
            results.extend(SUBMISSIONS.store(ours, [item]))
            ours.commit()

        thread = threading.Thread(target=store)
        thread.start()
        # The batch insert times out, then the first insert of the item alone; only then
        # does the other process commit.
        lock_waits(engine, episodes=3, timeout=15)
        other.commit()
        thread.join()
    [stored] = results
    assert isinstance(stored, Stored) and stored.replayed
    with Session(engine) as s:
        assert len(s.exec(select(Submission)).all()) == 1


def lock_waits(engine: Engine, *, episodes: int, timeout: float) -> None:
    """Return when the `episodes`-th statement starts waiting on a lock (or at timeout)."""
    query = text("SELECT query_start FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    started: set[object] = set()
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while len(started) < episodes and time.monotonic() < deadline:
            started.update(conn.execute(query).scalars())
            conn.commit()
            time.sleep(0.01)
