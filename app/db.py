"""Engines, sessions and the group-commit writer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_engine(url: str, *, immediate: bool = False) -> Engine:
    """Create an engine; for SQLite set WAL, FULL sync and our own BEGIN."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; we emit BEGIN.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a receipt is shown only after the commit is on disk, even on power loss.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front so two writers queue instead of deadlocking.
        conn.exec_driver_sql(begin)

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success, rolled back on error (jobs and CLI commands)."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Writer:
    """One thread per process that runs write jobs, many jobs per transaction.

    Concurrent submissions share one commit (group commit): at synchronous=FULL the
    fsync, not the insert, is the cost, so batching is what lets intake keep up.
    Each job runs in its own savepoint, so one failing job does not sink its batch.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 128,
        after_batch: Callable[[Session, list[Any]], None] | None = None,
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._after_batch = after_batch
        self._queue: queue.SimpleQueue[
            tuple[Callable[[Session], Any], concurrent.futures.Future[Any]] | None
        ] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="yijian-writer", daemon=True)
        self._thread.start()

    async def run(self, job: Callable[[Session], T]) -> T:
        """Run job(session) in the writer; resolves after its transaction committed."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((job, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(
        self, batch: list[tuple[Callable[[Session], Any], concurrent.futures.Future[Any]]]
    ) -> None:
        outcomes: list[tuple[concurrent.futures.Future[Any], Any, BaseException | None]] = []
        try:
            with Session(self._engine) as session:
                for job, future in batch:
                    savepoint = session.begin_nested()
                    try:
                        result = job(session)
                        savepoint.commit()
                        outcomes.append((future, result, None))
                    except Exception as exc:
                        savepoint.rollback()
                        outcomes.append((future, None, exc))
                if self._after_batch is not None:
                    # Whole-batch work (tagging) done once, in the same transaction.
                    self._after_batch(session, [r for _f, r, e in outcomes if e is None])
                session.commit()
        except Exception as exc:
            log.exception("writer batch of %d failed", len(batch))
            for _job, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
