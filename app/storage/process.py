"""The SQLite writer process: submissions are stored by a second process, on a second core.

Storing a submission (tagging it, building and inserting the row) takes more Python time
than the form POST itself, and under the GIL a thread cannot take it off the event
loop's core: with the writer in the server process, intake ran at about 40% of a no-op
form POST. The server process now sends each loop turn's submissions as one frame over a
socket pair to a child process, which stores every frame waiting for it in one
transaction (group commit), commits, and answers; the request resolves only after that
answer, so a receipt still means the row is on disk.

Plain writer jobs (ratings, ideas) stay in the server process's own writer (LoopWriter);
both sides take turns on the write lock through the database's WriteQueue.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import gc
import logging
import multiprocessing
import pickle  # nosec B403
import signal
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import TypeVar

from sqlmodel import Session

from app.campaign.service import IntakeState
from app.core import crypto
from app.core.config import Settings
from app.core.db import make_engine
from app.core.errors import UserError
from app.intake.service import NewSubmission, PreparedBatch, Stored
from app.storage.writer import Item, Submissions, WriteFailed, WriteQueue, Writer
from app.tagging import start_tagger

log = logging.getLogger(__name__)
T = TypeVar("T")
# Frames (4-byte length, then a pickle) pass only between a server process and the child
# it started, over their private socket pair.
_HEADER = struct.Struct("!I")
# A child that dies this soon after its start is not restarted for every batch.
_RESTART_PAUSE = 5.0


class _SentStates:
    """Intake states already sent to the child, so a frame names them by number.

    Pickling a unit's IntakeState (campaign, phases, dates) cost more than the
    submission itself; the intake cache hands out one object per unit for a few seconds.
    """

    LIMIT = 256

    def __init__(self) -> None:
        self._sent: dict[int, tuple[int, IntakeState]] = {}
        self._next = 0
        self._forgotten = False

    def forget(self) -> None:
        """After a frame that never left: the child may lack what it named."""
        self._sent.clear()
        self._forgotten = True

    def refer(
        self, items: list[Item]
    ) -> tuple[bool, dict[int, IntakeState], list[tuple[NewSubmission, int]]]:
        """(whether the child must forget earlier states, new states by number, items)."""
        reset = self._forgotten or len(self._sent) >= self.LIMIT
        if reset:
            self._sent.clear()
            self._forgotten = False
        new: dict[int, IntakeState] = {}
        out = []
        for submission, state in items:
            known = self._sent.get(id(state))
            if known is None or known[1] is not state:
                self._next += 1
                known = self._sent[id(state)] = (self._next, state)
                new[self._next] = state
            out.append((submission, known[0]))
        return reset, new, out


@dataclass
class _Link:
    """One child process and the server's end of its socket."""

    process: BaseProcess
    stream: asyncio.StreamWriter
    started: float
    inflight: dict[int, list[asyncio.Future[Stored]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    states: _SentStates = field(default_factory=_SentStates)


class ProcessWriter(Writer):
    """Submissions go to a writer process; plain jobs run here, in the writer given."""

    def __init__(self, jobs: Writer, settings: Settings) -> None:
        self._jobs = jobs
        self._settings = settings
        self._max_batch = settings.writer_batch
        self._outbox: list[tuple[Item, asyncio.Future[Stored]]] = []
        self._frames = 0
        self._link: _Link | None = None
        self._starting = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start the child; it warms up while the server starts taking requests."""
        async with self._starting:
            if self._link is None or self._link.stream.is_closing():
                self._link = await self._spawn()

    async def run(self, job: Callable[[Session], T]) -> T:
        return await self._jobs.run(job)

    async def store(self, new: NewSubmission, state: IntakeState) -> Stored:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Stored] = loop.create_future()
        self._outbox.append(((new, state), future))
        if len(self._outbox) == 1:
            # Everything handed in during this loop turn goes out as one frame.
            loop.call_soon(self._flush_outbox)
        return await future

    async def aclose(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            if not link.stream.is_closing():
                # The child answers what it has, sees the end of its input, and exits.
                link.stream.write_eof()
            await asyncio.to_thread(link.process.join, 30)
            if link.process.is_alive():
                log.error("writer process did not stop; terminating it")
                link.process.terminate()
            if link.reader is not None:
                await link.reader
        await self._jobs.aclose()

    async def _spawn(self) -> _Link:
        ours, theirs = socket.socketpair()
        context = multiprocessing.get_context("spawn")
        process = context.Process(
            target=serve_writes, args=(self._settings, theirs), name="yijian-writer", daemon=True
        )
        await asyncio.to_thread(process.start)
        theirs.close()
        reader, stream = await asyncio.open_connection(sock=ours)
        link = _Link(process, stream, time.monotonic())
        link.reader = asyncio.create_task(self._read(link, reader))
        log.info("writer process %s started", process.pid)
        return link

    def _flush_outbox(self) -> None:
        batch, self._outbox = self._outbox, []
        link = self._link
        if link is not None and not link.stream.is_closing():
            self._send(link, batch)
            return
        task = asyncio.get_running_loop().create_task(self._restart_and_send(link, batch))
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    async def _restart_and_send(
        self, dead: _Link | None, batch: list[tuple[Item, asyncio.Future[Stored]]]
    ) -> None:
        futures = [future for _, future in batch]
        if dead is not None and time.monotonic() - dead.started < _RESTART_PAUSE:
            _fail(futures, "writer process stopped right after its start")
            return
        try:
            await self.start()
        except OSError:
            log.exception("could not start the writer process")
            _fail(futures, "writer process could not start")
            return
        assert self._link is not None
        self._send(self._link, batch)

    def _send(self, link: _Link, batch: list[tuple[Item, asyncio.Future[Stored]]]) -> None:
        # A frame is never split across transactions: keep each within one batch.
        for start in range(0, len(batch), self._max_batch):
            chunk = batch[start : start + self._max_batch]
            futures = [future for _, future in chunk]
            self._frames += 1
            reset, states, items = link.states.refer([item for item, _ in chunk])
            try:
                data = _frame((self._frames, reset, states, items))
            except Exception:  # unpicklable, or past 4 GiB: only this frame's requests fail
                log.exception("could not send %d submissions to the writer", len(chunk))
                _fail(futures, "frame not sent")
                link.states.forget()
                continue
            link.inflight[self._frames] = futures
            link.stream.write(data)

    async def _read(self, link: _Link, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                frame, results = pickle.loads(await reader.readexactly(size))  # noqa: S301  # nosec B301
                for future, result in zip(link.inflight.pop(frame), results, strict=True):
                    if future.done():  # the request was cancelled (client went away)
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            link.stream.close()
            if link.inflight:
                log.error("writer process stopped with %d frames unanswered", len(link.inflight))
            for futures in link.inflight.values():
                _fail(futures, "writer process stopped before answering")
            link.inflight.clear()


def _frame(message: object) -> bytes:
    """A length-prefixed pickle (raises past 4 GiB or for what cannot be pickled)."""
    payload = pickle.dumps(message, protocol=5)
    return _HEADER.pack(len(payload)) + payload


def _fail(futures: list[asyncio.Future[Stored]], message: str) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(WriteFailed(message))


def serve_writes(settings: Settings, sock: socket.socket) -> None:
    """The writer process: store what the server sends until it closes its end.

    A batch is prepared (receipts, tags, rows) while the previous one's commit waits for
    the disk in a helper thread, which then answers its requests; a failed batch insert
    is retried item by item.
    """
    # Ctrl-C reaches the whole process group; the server stops us once its requests are
    # answered, by closing the socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s:     %(message)s")
    crypto.install(settings.keyring())
    engine = make_engine(settings.database_url, immediate=True)
    # The tagger only reads (is there a newer model?): on SQLite it must not take the write
    # lock for that, so it gets an ordinary engine.
    submissions = Submissions(
        settings.secret_key,
        start_tagger(settings.tagger, engine=make_engine(settings.database_url)),
    )
    gc.collect()
    gc.freeze()  # see main.py: the tagger's objects would slow every full collection
    turns = WriteQueue(engine)
    inbox = _Inbox(sock, settings.writer_batch)
    session = Session(engine)
    committer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="yijian-commit")
    last: concurrent.futures.Future[None] | None = None
    try:
        while (frames := inbox.receive()) is not None:
            items = [item for _, batch in frames for item in batch]
            try:
                prepared = submissions.prepare(items)
            except Exception:
                log.exception("could not prepare a batch of %d", len(items))
                prepared = None
            if last is not None:
                last.result()  # the previous batch is committed and answered
            results = None
            if prepared is not None:
                results = _write(session, turns, submissions, items, prepared)
            last = committer.submit(_commit_and_answer, session, turns, sock, frames, results)
        if last is not None:
            last.result()
    except (BrokenPipeError, ConnectionResetError):
        log.warning("the server went away; writer process stops")
    finally:
        committer.shutdown(wait=True)
        session.close()
        turns.close()
        engine.dispose()


def _write(
    session: Session,
    turns: WriteQueue,
    submissions: Submissions,
    items: list[Item],
    prepared: PreparedBatch,
) -> Sequence[Stored | Exception] | None:
    """Take the write lock and insert, leaving the commit to _commit_and_answer; None if
    the batch failed (its turn is over)."""
    try:
        turns.begin(session)
        try:
            return submissions.write(session, prepared)
        except Exception:  # rare: start over, item by item (no savepoint on the fast path)
            log.exception("batch insert failed; storing its %d items one by one", len(items))
            session.rollback()
            return submissions.store(session, items)
    except Exception:
        log.exception("writer batch of %d failed", len(items))
        turns.rollback(session)
        return None


def _commit_and_answer(
    session: Session,
    turns: WriteQueue,
    sock: socket.socket,
    frames: list[tuple[int, list[Item]]],
    results: Sequence[Stored | Exception] | None,
) -> None:
    """Commit what _write left open, then answer each frame (helper thread)."""
    if results is not None:
        try:
            turns.commit(session)
        except Exception:
            log.exception("commit of a batch of %d failed", len(results))
            turns.rollback(session)
            results = None
    out = bytearray()
    position = 0
    for frame, batch in frames:
        if results is None:
            answers: list[Stored | Exception] = [WriteFailed("batch failed")] * len(batch)
        else:
            answers = [_answer(r) for r in results[position : position + len(batch)]]
        position += len(batch)
        out += _frame((frame, answers))
    sock.sendall(out)


def _answer(result: Stored | Exception) -> Stored | Exception:
    if isinstance(result, BaseException) and not isinstance(result, UserError):
        log.error("submission not stored: %r", result)
        return WriteFailed("item failed")
    return result


class _Inbox:
    """Length-prefixed frames from a blocking socket."""

    def __init__(self, sock: socket.socket, max_items: int) -> None:
        self._sock = sock
        self._max_items = max_items
        self._buffer = bytearray()
        self._ready: collections.deque[tuple[int, list[Item]]] = collections.deque()
        self._states: dict[int, IntakeState] = {}

    def receive(self) -> list[tuple[int, list[Item]]] | None:
        """Wait for a whole frame, then take those already sent, up to max_items items
        (at least one frame); None at the end."""
        while not self._ready:
            if not self._read(block=True):
                return None
        while self._read(block=False):
            pass
        frames: list[tuple[int, list[Item]]] = []
        count = 0
        while self._ready and (not frames or count + len(self._ready[0][1]) <= self._max_items):
            frame = self._ready.popleft()
            frames.append(frame)
            count += len(frame[1])
        return frames

    def _read(self, *, block: bool) -> bool:
        """Read one chunk and split off whole frames; False at EOF or when none is waiting."""
        try:
            chunk = self._sock.recv(1 << 20, 0 if block else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        if not chunk:
            return False
        self._buffer += chunk
        position = 0
        while len(self._buffer) - position >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer, position)
            start = position + _HEADER.size
            if len(self._buffer) - start < size:
                break
            frame, reset, states, items = pickle.loads(  # noqa: S301  # nosec B301
                self._buffer[start : start + size]
            )
            if reset:
                self._states.clear()
            self._states.update(states)
            self._ready.append((frame, [(new, self._states[ref]) for new, ref in items]))
            position = start + size
        del self._buffer[:position]
        return True
