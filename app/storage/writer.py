"""Group-commit writers: many write jobs and submissions per transaction, on a thread or
the event loop."""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import contextlib
import fcntl
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session

from app.campaign.service import IntakeState
from app.intake.service import (
    NewSubmission,
    PreparedBatch,
    Stored,
    insert_order,
    prepare_submissions,
    store_submission,
    store_submissions,
    write_submissions,
)
from app.tagging import Tagger

log = logging.getLogger(__name__)
T = TypeVar("T")
# A submission and the intake state of its unit, as the writers pass them on.
Item = tuple[NewSubmission, IntakeState]


class WriteFailed(Exception):
    """The writer could not store a batch; the sender may try again."""


class Writer(abc.ABC):
    """The write path: plain jobs and submissions, each resolved only after its commit."""

    @abc.abstractmethod
    async def run(self, job: Callable[[Session], T]) -> T:
        """Run job(session) in the writer; resolves after its transaction committed."""

    @abc.abstractmethod
    async def store(self, new: NewSubmission, state: IntakeState) -> Stored:
        """Store a submission; resolves after the commit (raises its UserError if refused)."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Finish what was handed in and stop."""


@dataclass(frozen=True)
class Submissions:
    """How submissions are stored: receipts keyed by the secret, tags from the tagger."""

    secret: str
    tagger: Tagger | None

    def prepare(self, items: Sequence[Item]) -> PreparedBatch:
        """Receipts, tags and rows, without the database."""
        return prepare_submissions(secret=self.secret, items=items, tagger=self.tagger)

    def write(self, session: Session, batch: PreparedBatch) -> Sequence[Stored | Exception]:
        """Insert a prepared batch in the session's transaction; one result per item."""
        return write_submissions(session, secret=self.secret, batch=batch)

    def store(self, session: Session, items: Sequence[Item]) -> Sequence[Stored | Exception]:
        """Insert items in a savepoint; should that raise, retry them one by one, each in
        its own savepoint. One result or exception per item; nothing is committed."""
        savepoint = session.begin_nested()
        try:
            results = store_submissions(
                session, secret=self.secret, items=items, tagger=self.tagger
            )
            savepoint.commit()
            return results
        except Exception:  # retried item by item below
            savepoint.rollback()
        outcomes: list[Stored | Exception | None] = [None] * len(items)
        # In the batch's key order, so the retry cannot deadlock with another process's.
        order = sorted(range(len(items)), key=lambda i: insert_order(*_keyed(items[i])))
        for index in order:
            new, state = items[index]
            one = partial(
                store_submission, secret=self.secret, new=new, tagger=self.tagger, state=state
            )
            for _ in range(TRANSIENT_RETRIES):
                result, error = _attempt(session, one)
                # A deadlock victim or a lock timeout: the other process has stored or
                # will store the same key; once it has, trying again replays its receipt.
                if error is None or not is_transient(error):
                    break
            outcomes[index] = result if error is None else error
        return [outcome for outcome in outcomes if outcome is not None]


class BatchWriter(Writer):
    """Runs write jobs and stores submissions, many per transaction (group commit).

    At synchronous=FULL the fsync, not the insert, is the cost, so concurrent submissions
    share one commit. A plain job runs in its own savepoint, so one failing job does not
    sink its batch. A batch's submissions are stored together (one tagging pass, one
    insert); should that raise, they are retried one by one, each in its own savepoint.
    Callers await the result, which is there only once the transaction has committed.
    """

    def __init__(self, engine: Engine, submissions: Submissions, *, max_batch: int = 128) -> None:
        self._engine = engine
        self._submissions = submissions
        self._max_batch = max_batch

    async def run(self, job: Callable[[Session], T]) -> T:
        return await self._submit(job)  # type: ignore[no-any-return]

    async def store(self, new: NewSubmission, state: IntakeState) -> Stored:
        return await self._submit((new, state))  # type: ignore[no-any-return]

    async def _submit(self, payload: Callable[[Session], Any] | Item) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._enqueue(_Entry(payload, loop, future))
        return await future

    @abc.abstractmethod
    def _enqueue(self, entry: _Entry) -> None: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Finish what was handed in and stop."""

    async def aclose(self) -> None:
        self.close()

    def _execute(self, session: Session, batch: list[_Entry]) -> list[_Outcome]:
        """Run a batch's jobs and store its submissions in the session's open transaction
        (not committed)."""
        outcomes: list[_Outcome] = []
        stores: list[tuple[_Entry, Item]] = []
        for entry in batch:
            if isinstance(entry.payload, tuple):
                stores.append((entry, entry.payload))
            else:
                outcomes.append((entry, *_attempt(session, entry.payload)))
        if stores:
            results = self._submissions.store(session, [item for _, item in stores])
            outcomes.extend(
                (e, None, r) if isinstance(r, Exception) else (e, r, None)
                for (e, _), r in zip(stores, results, strict=True)
            )
        return outcomes


class WriteQueue:
    """The lock file that server processes of one SQLite database queue on for the write
    lock: SQLite's own busy wait polls with sleeps of up to 100 ms, so a process that
    waited there lost nearly every race to one that re-took the lock at once (p99
    0.6-0.9 s with two workers); a file lock wakes the waiting process the moment it is
    released. No-op for an in-memory database.

    A turn is taken by begin() and passed on only by commit() or rollback(), which end
    the transaction it began.
    """

    def __init__(self, engine: Engine) -> None:
        path = engine.url.database
        self._file = (
            open(f"{path}.writer-lock", "ab")  # noqa: SIM115 - held for the writer's life
            if path and path != ":memory:"
            else None
        )

    def begin(self, session: Session) -> None:
        """Wait for our turn, then BEGIN IMMEDIATE (blocks: call it off the event loop).
        Should it raise, end the turn with rollback()."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_EX)
        session.connection()

    def commit(self, session: Session) -> None:
        """COMMIT, then pass the turn on; should the commit raise, end with rollback()."""
        session.commit()
        self._release()

    def rollback(self, session: Session) -> None:
        """ROLLBACK what the turn wrote, then pass the turn on."""
        try:
            session.rollback()
        except SQLAlchemyError:  # the waiting requests must still get their answer
            log.exception("rollback after a failed batch failed too")
        finally:
            self._release()

    def _release(self) -> None:
        # Unlocking a lock not held (begin failed before it) is a no-op.
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def make_writer(
    engine: Engine, submissions: Submissions, *, max_batch: int = 128
) -> BatchWriter:
    """The in-process writer that suits the database: see LoopWriter and ThreadWriter."""
    kind = LoopWriter if engine.dialect.name == "sqlite" else ThreadWriter
    return kind(engine, submissions, max_batch=max_batch)


class ThreadWriter(BatchWriter):
    """A thread that runs whole batches: for a database across the network (PostgreSQL),
    where every statement is a round trip the event loop must not wait for."""

    def __init__(self, engine: Engine, submissions: Submissions, *, max_batch: int = 128) -> None:
        super().__init__(engine, submissions, max_batch=max_batch)
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


class LoopWriter(BatchWriter):
    """SQLite: statements run on the event loop, only BEGIN IMMEDIATE and COMMIT in a thread.

    An embedded insert takes microseconds, but a thread doing it has to win the GIL back
    from the busy event loop after every statement; measured, that hand-off cost more
    than the work. Taking the write lock can wait for another process, and the commit
    waits for the disk, so those two run in a helper thread while the loop goes on
    collecting the next batch. Server processes take turns through a WriteQueue.
    """

    def __init__(self, engine: Engine, submissions: Submissions, *, max_batch: int = 128) -> None:
        super().__init__(engine, submissions, max_batch=max_batch)
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
            outcomes = self._execute(session, batch)
            await loop.run_in_executor(self._thread, self._turns.commit, session)
            return outcomes
        except Exception as exc:
            log.exception("writer batch of %d failed", len(batch))
            self._turns.rollback(session)
            return [(entry, None, exc) for entry in batch]


@dataclass
class _Entry:
    payload: Callable[[Session], Any] | Item  # a plain job, or a submission to store
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


TRANSIENT_RETRIES = 4
# PostgreSQL's deadlock_detected, serialization_failure and lock_not_available.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def _keyed(item: Item) -> tuple[NewSubmission, int]:
    return item[0], item[1].unit_id


def is_transient(error: Exception) -> bool:
    """An error that the same statement may not meet again: a deadlock or a busy lock."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate in _TRANSIENT_SQLSTATES or "database is locked" in str(error.orig)


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
