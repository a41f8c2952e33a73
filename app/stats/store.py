"""Every item's counted fields as numpy columns, kept in step with the database.

Counting in SQL meant three scans of every item of the period per page: 0.36 s at 200,000
items, whatever was cached, as soon as one letter came in. The columns answer any period and
scope in milliseconds. Triggers (migration 0025) log each insert, delete and change of a
counted column to submission_change, whoever writes it; before each count the store reads
the log since its last look and reloads only those items.

Reading the log is safe without a consistent snapshot: the store takes its watermark before
it reads any item, so items are never older than the watermark says.
- SQLite commits one writer at a time, so log ids are committed in order: the watermark is
  the highest id seen.
- PostgreSQL commits concurrent transactions in any order, so the log carries each writer's
  transaction id and the watermark is the oldest transaction still running (the snapshot's
  xmin): everything logged by an older one is committed and visible, anything newer is read
  again next time (reloading an item twice is harmless).
The store reads everything again when it cannot trust the log: on its first look, after half
a day without one (the worker prunes the log after a day or more), when more than a quarter
of the items changed, and when ids went back (an older backup restored under it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, Select, and_, delete, func, select, text
from sqlmodel import Session, col

from app.models import Status, Submission, SubmissionChange
from app.models.base import day_number

Array = npt.NDArray[np.int32]

# The worker prunes the log after a day or more (app/stats/jobs.py); a store that has not
# looked for half a day reloads everything rather than trust a log that may have lost rows.
RELOAD_AFTER_SECONDS = 12 * 3600
# Past this share of the items changed, one full read is cheaper than reading by id.
_RELOAD_SHARE = 0.25
_BY_ID = 500  # ids per IN (...) when reloading changed items
_BATCH = 20_000  # rows read at a time


def _query(*, ids: Sequence[int] | None = None) -> Select[Any]:
    """id, then the columns Items holds (days as numbers, 0: none), then whether only the
    bureau holds the item (app.accounts.access.not_held_by_bureau)."""
    query = select(
        col(Submission.id),
        col(Submission.unit_id),
        func.coalesce(col(Submission.check), -1),
        col(Submission.channel),
        col(Submission.role),
        col(Submission.status),
        day_number(col(Submission.created_at)),
        day_number(col(Submission.first_reply_at)),
        day_number(col(Submission.updated_at)),
        day_number(col(Submission.due_on)),
        and_(col(Submission.to_bureau), col(Submission.masked_text).is_(None)),
    )
    return query if ids is None else query.where(col(Submission.id).in_(ids))  # type: ignore[return-value]


class Codes:
    """Small integers for the values of a text column (channel, role, status): `known` first,
    then others as they are stored."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.values: list[str] = []
        self._codes: dict[str, int] = {}
        for value in known:
            self.code(value)

    def code(self, value: str) -> int:
        """The value's code, given a new one if unseen."""
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found

    def codes(self, values: Sequence[str]) -> list[int]:
        """code() of each value, in one pass."""
        for value in sorted(set(values) - self._codes.keys()):
            self.code(value)
        return list(map(self._codes.__getitem__, values))

    def of(self, value: str) -> int:
        """The value's code; -1 (matching nothing) if it was never stored."""
        return self._codes.get(value, -1)


@dataclass(frozen=True)
class Items:
    """Some items' counted fields, one array each, aligned (days as ordinals, 0: none)."""

    unit: Array
    check: Array  # -1: not tagged yet
    channel: Array
    role: Array
    status: Array
    received: Array
    replied: Array
    changed: Array
    due: Array


_FIELDS = ("unit", "check", "channel", "role", "status", "received", "replied", "changed", "due")


class ItemStore:
    """The counted fields of every item, in memory (one per process, shared by requests)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.channels = Codes()
        self.roles = Codes()
        self.statuses = Codes(s.value for s in Status)
        self._columns: dict[str, Array] = {}
        self._held = np.zeros(0, dtype=bool)
        self._row = np.zeros(0, dtype=np.int32)  # each item id's row, -1: none
        self._size = 0
        self._newest = 0  # the highest item id read
        self._watermark: int | None = None
        self._looked = 0.0

    def preload(self, engine: Engine) -> None:
        """Read every item now (at start-up), so that the first page need not."""
        with Session(engine) as session, self._lock:
            self._catch_up(session)

    def items(
        self,
        session: Session,
        *,
        unit_ids: Sequence[int],
        start: date,
        end: date,
        bureau_items: bool,
    ) -> Items:
        """The items of these units received from `start` to `end` (local days), as they are
        in the database now (without bureau_items: not those only the bureau holds)."""
        with self._lock:
            self._catch_up(session)
            n = self._size
            c = {name: array[:n] for name, array in self._columns.items()}
            received = c["received"]
            chosen = (
                (received >= start.toordinal())
                & (received <= end.toordinal())
                & np.isin(c["unit"], np.asarray(unit_ids, dtype=np.int32))
            )
            if not bureau_items:
                chosen &= ~self._held[:n]
            return Items(**{name: c[name][chosen] for name in _FIELDS})

    def _catch_up(self, session: Session) -> None:
        dialect = session.get_bind().dialect.name
        if self._watermark is None or self._clock() - self._looked > RELOAD_AFTER_SECONDS:
            self._reload(session, dialect)
            return
        watermark = _watermark(session, dialect)
        newest = session.execute(select(func.max(col(Submission.id)))).scalar() or 0
        # Ids went back: an older copy of the database was restored under the running
        # service (or its newest items were deleted). Nothing logged says what changed.
        if newest < self._newest or (dialect == "sqlite" and watermark < self._watermark):
            self._reload(session, dialect)
            return
        logged = (
            col(SubmissionChange.xid) >= self._watermark
            if dialect == "postgresql"
            else col(SubmissionChange.id).between(self._watermark + 1, watermark)
        )
        changed = set(session.scalars(select(col(SubmissionChange.submission_id)).where(logged)))
        if len(changed) > _RELOAD_SHARE * max(self._size, 1):
            self._reload(session, dialect)
            return
        ids = sorted(changed)
        for i in range(0, len(ids), _BY_ID):
            part = ids[i : i + _BY_ID]
            found: set[int] = set()
            for rows in _fetch(session, ids=part):
                self._put(rows)
                found.update(row[0] for row in rows)
            gone = np.asarray(sorted(set(part) - found), dtype=np.int64)
            gone = gone[gone < len(self._row)]
            at = self._row[gone]
            self._columns["received"][at[at >= 0]] = 0  # deleted: in no period
        self._watermark, self._looked = watermark, self._clock()

    def _reload(self, session: Session, dialect: str) -> None:
        watermark = _watermark(session, dialect)
        self._newest = 0
        self._columns = {name: np.zeros(0, dtype=np.int32) for name in _FIELDS}
        self._held = np.zeros(0, dtype=bool)
        self._row, self._size = np.zeros(0, dtype=np.int32), 0
        for rows in _fetch(session):
            self._put(rows)
        self._watermark, self._looked = watermark, self._clock()

    def _put(self, rows: Sequence[Sequence[Any]]) -> None:
        """Store these rows (id first, then the columns of _query): new items at the end,
        known ones in their place."""
        if not rows:
            return
        # Column by column: zip(*rows) took twice as long at 200,000 rows.
        ids, unit, check, channel, role, status, *days, held = (
            [row[i] for row in rows] for i in range(len(rows[0]))
        )
        values = {
            "unit": unit,
            "check": check,
            "channel": self.channels.codes(channel),
            "role": self.roles.codes(role),
            "status": self.statuses.codes(status),
            **dict(zip(("received", "replied", "changed", "due"), days, strict=True)),
        }
        item_ids = np.asarray(ids, dtype=np.int64)
        self._newest = max(self._newest, int(item_ids.max()))
        if item_ids.max() >= len(self._row):
            grown = np.full(max(int(item_ids.max()) + 1, 2 * len(self._row)), -1, dtype=np.int32)
            grown[: len(self._row)] = self._row
            self._row = grown
        fresh = item_ids[self._row[item_ids] < 0]
        self._row[fresh] = np.arange(self._size, self._size + len(fresh), dtype=np.int32)
        self._size += len(fresh)
        if self._size > len(self._held):
            capacity = max(self._size, 2 * len(self._held), 1024)
            for name, array in self._columns.items():
                self._columns[name] = np.resize(array, capacity)
            self._held = np.resize(self._held, capacity)
        where = self._row[item_ids]
        for name, column in values.items():
            self._columns[name][where] = np.asarray(column, dtype=np.int32)
        self._held[where] = np.asarray(held, dtype=bool)


def _fetch(session: Session, *, ids: Sequence[int] | None = None) -> Iterator[list[Any]]:
    """The rows of _query as the driver gives them, in batches (at 200,000 items, SQLAlchemy's
    result rows cost more than the read itself, and all rows at once 150 MB)."""
    connection = session.connection()
    compiled = _query(ids=ids).compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True}
    )
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled))
        while rows := cursor.fetchmany(_BATCH):
            yield list(rows)
    finally:
        cursor.close()


def _watermark(session: Session, dialect: str) -> int:
    """Everything logged before this is committed and visible: on PostgreSQL the oldest
    transaction still running, on SQLite the newest log id."""
    if dialect == "postgresql":
        snapshot = text("SELECT txid_snapshot_xmin(txid_current_snapshot())")
        return int(session.execute(snapshot).scalar_one())
    return int(session.execute(select(func.max(col(SubmissionChange.id)))).scalar() or 0)


def prune_log(session: Session, *, today_utc: date) -> int:
    """Drop the log rows of the days before yesterday (UTC), so each row stays a day or more;
    how many went."""
    result = session.execute(
        delete(SubmissionChange).where(col(SubmissionChange.changed_on) < today_utc - timedelta(1))
    )
    return int(getattr(result, "rowcount", 0) or 0)
