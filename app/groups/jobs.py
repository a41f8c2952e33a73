"""Grouping runs in the worker right after intake commits, never inside the request."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.db import claim_engine, exclusive, session_scope
from app.core.jobs import Job, JobContext
from app.groups.service import find_match, pending_items, record_match

# Seconds between runs: a new item stands alone in the queue for at most about this long.
INTERVAL = 5.0
# Items read per query for pending work.
BATCH = 50
# The worker shares the machine with the web process and the database: after each item it
# rests this many times as long as the item took, so a burst of letters being grouped
# holds at most half a core and intake keeps its speed.
PACE = 1.0


@dataclass
class GroupResult:
    grouped: int = 0
    busy: bool = False

    def summary(self) -> str:
        return "another process is grouping" if self.busy else f"{self.grouped} items grouped"


def group_new_items(engine: Engine, *, rest: Callable[[float], None] = time.sleep) -> GroupResult:
    """Group every item stored since the last run; one process at a time (two would compare
    the same new item twice, and each run relies on being the only writer of the groups).

    Each item is compared in a read-only transaction and recorded in a short write
    transaction of its own (BEGIN IMMEDIATE on SQLite): the intake writer never waits for
    a comparison, only for a few inserts.
    """
    result = GroupResult()
    with exclusive(engine, "groups") as mine, claim_engine(engine) as writes:
        if not mine:
            result.busy = True
            return result
        while True:
            with Session(engine) as reads:
                pending = pending_items(reads, limit=BATCH)
                for sub in pending:
                    started = time.perf_counter()
                    sid = sub.id
                    assert sid is not None
                    match = find_match(reads, submission=sub)
                    # Ends the read snapshot (nothing of `reads` is touched until the write
                    # is committed), so the next item is compared with this one too.
                    reads.rollback()
                    with session_scope(writes) as session:
                        record_match(session, submission_id=sid, match=match)
                    rest(PACE * (time.perf_counter() - started))
            result.grouped += len(pending)
            if not pending:
                return result


def jobs(context: JobContext) -> list[Job]:
    return [Job("groups", INTERVAL, lambda: group_new_items(context.engine))]
