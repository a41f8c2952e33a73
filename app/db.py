"""Engines, sessions and the group-commit writer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
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


Batcher = Callable[[Session, list[Any]], list[Any]]


class Writer:
    """One thread per process that runs write jobs, many jobs per transaction.

    Concurrent submissions share one commit (group commit): at synchronous=FULL the
    fsync, not the insert, is the cost, so batching is what lets intake keep up.
    A plain job runs in its own savepoint, so one failing job does not sink its batch.
    Items for a named batcher (submissions) are handled together by one call, which
    returns one result or exception per item; should it raise, its items are retried
    one by one, each in its own savepoint.
    """

    def __init__(
        self, engine: Engine, *, max_batch: int = 128, batchers: dict[str, Batcher] | None = None
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._batchers = batchers or {}
        self._queue: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="yijian-writer", daemon=True)
        self._thread.start()

    async def run(self, job: Callable[[Session], T]) -> T:
        """Run job(session) in the writer; resolves after its transaction committed."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put(_Entry(None, job, future))
        return await asyncio.wrap_future(future)

    async def run_batched(self, batcher: str, item: Any) -> Any:
        """Hand item to a named batcher; resolves to its result after the commit."""
        if batcher not in self._batchers:
            raise KeyError(batcher)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put(_Entry(batcher, item, future))
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

    def _run_batch(self, batch: list[_Entry]) -> None:
        outcomes: list[tuple[concurrent.futures.Future[Any], Any, BaseException | None]] = []
        try:
            with Session(self._engine) as session:
                groups: dict[str, list[_Entry]] = {}
                for entry in batch:
                    if entry.batcher is None:
                        outcomes.append(_in_savepoint(session, entry.payload, entry.future))
                    else:
                        groups.setdefault(entry.batcher, []).append(entry)
                for name, entries in groups.items():
                    outcomes.extend(self._run_group(session, name, entries))
                session.commit()
        except Exception as exc:
            log.exception("writer batch of %d failed", len(batch))
            for entry in batch:
                if not entry.future.done():
                    entry.future.set_exception(exc)
            return
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    def _run_group(
        self, session: Session, name: str, entries: list[_Entry]
    ) -> list[tuple[concurrent.futures.Future[Any], Any, BaseException | None]]:
        batcher = self._batchers[name]
        savepoint = session.begin_nested()
        try:
            results = batcher(session, [e.payload for e in entries])
            savepoint.commit()
        except Exception:  # retried item by item below
            savepoint.rollback()
            return [
                _in_savepoint(session, partial(_one, batcher, e.payload), e.future) for e in entries
            ]
        return [
            (e.future, None, r) if isinstance(r, BaseException) else (e.future, r, None)
            for e, r in zip(entries, results, strict=True)
        ]


@dataclass
class _Entry:
    batcher: str | None
    payload: Any
    future: concurrent.futures.Future[Any]


def _one(batcher: Batcher, payload: Any, session: Session) -> Any:
    result = batcher(session, [payload])[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _in_savepoint(
    session: Session, job: Callable[[Session], Any], future: concurrent.futures.Future[Any]
) -> tuple[concurrent.futures.Future[Any], Any, BaseException | None]:
    savepoint = session.begin_nested()
    try:
        result = job(session)
        savepoint.commit()
        return future, result, None
    except Exception as exc:  # handed to the waiting request
        savepoint.rollback()
        return future, None, exc
