"""Database engines and sessions (SQLite pragmas, our own BEGIN)."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

T = TypeVar("T")


def make_engine(url: str, *, immediate: bool = False) -> Engine:
    """Create an engine; for SQLite set WAL, FULL sync and our own BEGIN."""
    # Error messages would otherwise quote the statement's values (a suggestion's text, a
    # named sender's contact) into the log.
    if not url.startswith("sqlite"):
        return create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
        )
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
    )

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
        # Zero what is deleted or overwritten (an acknowledged sender's address): a copy of the
        # file must not hold it in free space.
        cur.execute("PRAGMA secure_delete=ON")
        # A multi-row insert inside a transaction keeps a statement journal; past 64 KiB
        # SQLite spills it to a temporary file, which cost an open, an unlink and a write
        # per page for every batch of submissions. In memory it is only a copy.
        cur.execute("PRAGMA temp_store=MEMORY")
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


async def run_committed(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run work in a session of its own, committed, in a worker thread (for async callers
    whose sequence must commit between steps, such as claim, send, mark)."""

    def run() -> T:
        with session_scope(engine) as session:
            return work(session)

    return await asyncio.to_thread(run)


@contextmanager
def claim_engine(engine: Engine) -> Iterator[Engine]:
    """The engine for claiming outbox rows: on SQLite one whose transactions BEGIN
    IMMEDIATE, so two workers claiming at once queue on the write lock instead of both
    reading 'pending' (PostgreSQL claims with FOR UPDATE SKIP LOCKED on any engine)."""
    if engine.dialect.name != "sqlite":
        yield engine
        return
    claimer = make_engine(engine.url.render_as_string(hide_password=False), immediate=True)
    try:
        yield claimer
    finally:
        claimer.dispose()


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Hold the lock called `name` across every process of this database while the block
    runs; yields False at once (holding nothing) when another process holds it.

    PostgreSQL: a session-level advisory lock on a connection of its own. SQLite: an
    flock on a file beside the database. Either way a process that dies releases it.
    """
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                             signed=True)
        with engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    path = engine.url.database
    if not path or path == ":memory:":
        yield True  # one process only
        return
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    with open(f"{path}.lock-{safe}", "ab") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
