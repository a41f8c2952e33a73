"""Group-commit writers: many write jobs per transaction, on a thread or the event loop."""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import contextlib
import fcntl
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

log = logging.getLogger(__name__)
T = TypeVar("T")


Batcher = Callable[[Session, list[Any]], list[Any]]


class WriteFailed(Exception):
    """The writer could not store a batch; the sender may try again."""


class Writer(abc.ABC):
    """Runs write jobs, many per transaction (group commit).

    At synchronous=FULL the fsync, not the insert, is the cost, so concurrent submissions
    share one commit. A plain job runs in its own savepoint, so one failing job does not
    sink its batch. Items for a named batcher (submissions) are handled together by one
    call, which returns one result or exception per item; should it raise, its items are
    retried one by one, each in its own savepoint. Callers await the result, which is
    there only once the transaction has committed.
    """

    def __init__(
        self, engine: Engine, *, max_batch: int = 128, batchers: dict[str, Batcher] | None = None
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._batchers = batchers or {}

    async def run(self, job: Callable[[Session], T]) -> T:
        """Run job(session) in the writer; resolves after its transaction committed."""
        return await self._submit(None, job)  # type: ignore[no-any-return]

    async def run_batched(self, batcher: str, item: Any) -> Any:
        """Hand item to a named batcher; resolves to its result after the commit."""
        if batcher not in self._batchers:
            raise KeyError(batcher)
        return await self._submit(batcher, item)

    async def _submit(self, batcher: str | None, payload: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._enqueue(_Entry(batcher, payload, loop, future))
        return await future

    @abc.abstractmethod
    def _enqueue(self, entry: _Entry) -> None: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Finish what was handed in and stop."""

    async def aclose(self) -> None:
        """close(), from the event loop."""
        self.close()

    def _execute(self, session: Session, batch: list[_Entry]) -> list[_Outcome]:
        """Run a batch's jobs in the session's open transaction (not committed)."""
        outcomes: list[_Outcome] = []
        groups: dict[str, list[_Entry]] = {}
        for entry in batch:
            if entry.batcher is None:
                outcomes.append((entry, *_attempt(session, entry.payload)))
            else:
                groups.setdefault(entry.batcher, []).append(entry)
        for name, entries in groups.items():
            outcomes.extend(self._run_group(session, name, entries))
        return outcomes

    def _run_group(self, session: Session, name: str, entries: list[_Entry]) -> list[_Outcome]:
        results = run_batcher(session, self._batchers[name], [e.payload for e in entries])
        return [
            (e, None, r) if isinstance(r, BaseException) else (e, r, None)
            for e, r in zip(entries, results, strict=True)
        ]


def run_batcher(session: Session, batcher: Batcher, payloads: list[Any]) -> list[Any]:
    """Run a batcher in a savepoint; should it raise, retry item by item, each in its own
    savepoint. One result or exception per payload; nothing is committed."""
    savepoint = session.begin_nested()
    try:
        results = batcher(session, payloads)
        savepoint.commit()
        return results
    except Exception:  # retried item by item below
        savepoint.rollback()
    outcomes: list[Any] = []
    for payload in payloads:
        result, error = _attempt(session, partial(_one, batcher, payload))
        outcomes.append(result if error is None else error)
    return outcomes


class WriteQueue:
    """The lock file that server processes of one SQLite database queue on for the write
    lock: SQLite's own busy wait polls with sleeps of up to 100 ms, so a process that
    waited there lost nearly every race to one that re-took the lock at once (p99
    0.6-0.9 s with two workers); a file lock wakes the waiting process the moment it is
    released. No-op for an in-memory database."""

    def __init__(self, engine: Engine) -> None:
        path = engine.url.database
        self._file = (
            open(f"{path}.writer-lock", "ab")  # noqa: SIM115 - held for the writer's life
            if path and path != ":memory:"
            else None
        )

    def begin(self, session: Session) -> None:
        """Wait for our turn, then BEGIN IMMEDIATE (blocks: call it off the event loop)."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_EX)
        try:
            session.connection()
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def make_writer(
    engine: Engine, *, max_batch: int = 128, batchers: dict[str, Batcher] | None = None
) -> Writer:
    """The writer that suits the database: see LoopWriter and ThreadWriter."""
    kind = LoopWriter if engine.dialect.name == "sqlite" else ThreadWriter
    return kind(engine, max_batch=max_batch, batchers=batchers)


class ThreadWriter(Writer):
    """A thread that runs whole batches: for a database across the network (PostgreSQL),
    where every statement is a round trip the event loop must not wait for."""

    def __init__(
        self, engine: Engine, *, max_batch: int = 128, batchers: dict[str, Batcher] | None = None
    ) -> None:
        super().__init__(engine, max_batch=max_batch, batchers=batchers)
        self._queue: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="yijian-writer", daemon=True)
        self._thread.start()

    def _enqueue(self, entry: _Entry) -> None:
        self._queue.put(entry)

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
        try:
            with Session(self._engine) as session:
                outcomes = self._execute(session, batch)
                session.commit()
        except Exception as exc:
            log.exception("writer batch of %d failed", len(batch))
            outcomes = [(entry, None, exc) for entry in batch]
        # One wake-up per event loop for the whole batch, not one per request.
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome[0].loop, []).append(outcome)
        for loop, settled in by_loop.items():
            # A closed loop has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, settled)


class LoopWriter(Writer):
    """SQLite: statements run on the event loop, only BEGIN IMMEDIATE and COMMIT in a thread.

    An embedded insert takes microseconds, but a thread doing it has to win the GIL back
    from the busy event loop after every statement; measured, that hand-off cost more
    than the work. Taking the write lock can wait for another process, and the commit
    waits for the disk, so those two run in a helper thread while the loop goes on
    collecting the next batch. Server processes take turns through a WriteQueue.
    """

    def __init__(
        self, engine: Engine, *, max_batch: int = 128, batchers: dict[str, Batcher] | None = None
    ) -> None:
        super().__init__(engine, max_batch=max_batch, batchers=batchers)
        self._pending: list[_Entry] = []
        self._flushing = False
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="yijian-commit")
        self._turns = WriteQueue(engine)

    def _enqueue(self, entry: _Entry) -> None:
        self._pending.append(entry)
        if not self._flushing:
            self._flushing = True
            entry.loop.create_task(self._flush(entry.loop))

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._turns.close()

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        session = Session(self._engine)
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                _settle(await self._run_batch(loop, session, batch))
        finally:
            session.close()
            self._flushing = False

    async def _run_batch(
        self, loop: asyncio.AbstractEventLoop, session: Session, batch: list[_Entry]
    ) -> list[_Outcome]:
        try:
            await loop.run_in_executor(self._thread, self._turns.begin, session)
            try:
                outcomes = self._execute(session, batch)
                await loop.run_in_executor(self._thread, session.commit)
                return outcomes
            finally:
                self._turns.release()
        except Exception as exc:
            log.exception("writer batch of %d failed", len(batch))
            try:
                session.rollback()
            except SQLAlchemyError:  # the waiting requests must still get their answer
                log.exception("rollback after the failed batch failed too")
            return [(entry, None, exc) for entry in batch]


@dataclass
class _Entry:
    batcher: str | None
    payload: Any
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


# The entry, then its result or the exception to raise in the waiting request.
_Outcome = tuple[_Entry, Any, BaseException | None]


def _settle(outcomes: list[_Outcome]) -> None:
    for entry, result, error in outcomes:
        if entry.future.done():  # the request was cancelled (client went away)
            continue
        if error is None:
            entry.future.set_result(result)
        else:
            entry.future.set_exception(error)


def _one(batcher: Batcher, payload: Any, session: Session) -> Any:
    result = batcher(session, [payload])[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _attempt(session: Session, job: Callable[[Session], Any]) -> tuple[Any, Exception | None]:
    """job(session) in its own savepoint: (result, None), or (None, its exception) with
    the savepoint rolled back, so one failing job does not sink the others."""
    savepoint = session.begin_nested()
    try:
        result = job(session)
        savepoint.commit()
        return result, None
    except Exception as exc:  # handed to the waiting request
        savepoint.rollback()
        return None, exc
