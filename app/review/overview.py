"""Counts for the top of the admin queue."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select, true
from sqlmodel import Session, col

from app.accounts.access import not_held_by_bureau
from app.models import AuditLog, Submission


@dataclass(frozen=True)
class Overview:
    total: int
    by_check: dict[int | None, int]
    by_status: dict[str, int]
    by_unit: dict[int, int]


def count_overview(
    session: Session, *, unit_ids: list[int], bureau_items: bool = False
) -> Overview:
    """Totals per check, status and unit over the given units (the bureau's own items
    only with bureau_items: a unit role counts the masked copies forwarded to it)."""
    # One grouped pass over the (unit_id, check, status) index instead of three scans.
    query = (
        select(col(Submission.unit_id), col(Submission.check), col(Submission.status), func.count())
        .where(col(Submission.unit_id).in_(unit_ids))
        .where(true() if bureau_items else not_held_by_bureau())
        .group_by(col(Submission.unit_id), col(Submission.check), col(Submission.status))
    )
    by_unit: Counter[int] = Counter()
    by_check: Counter[int | None] = Counter()
    by_status: Counter[str] = Counter()
    for unit_id, check, status, n in session.execute(query).all():
        by_unit[unit_id] += n
        by_check[check] += n
        by_status[status] += n
    return Overview(
        total=sum(by_unit.values()),
        by_check=dict(by_check),
        by_status=dict(by_status),
        by_unit=dict(by_unit),
    )


def data_version(session: Session) -> tuple[int | None, int | None]:
    """Newest submission and newest audit entry: both change when counts can change.

    Intake adds submissions; every admin change writes an audit entry. Both are O(1) rowid
    lookups, unlike the counts, which read every row.
    """
    newest = session.execute(select(func.max(Submission.id))).scalar()
    audited = session.execute(select(func.max(AuditLog.id))).scalar()
    return newest, audited


class OverviewCache:
    """Counts per set of units, reused while data_version is unchanged (and at most ttl)."""

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._entries: dict[tuple[bool, tuple[int, ...]], tuple[float, object, Overview]] = {}

    def get(self, session: Session, *, unit_ids: list[int], bureau_items: bool = False) -> Overview:
        """count_overview, from the cache when nothing has changed since it was counted."""
        key = (bureau_items, tuple(sorted(unit_ids)))
        version = data_version(session)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[1] == version and now - hit[0] < self._ttl:
            return hit[2]
        fresh = count_overview(session, unit_ids=unit_ids, bureau_items=bureau_items)
        with self._lock:
            if len(self._entries) > 1000:
                self._entries.clear()
            self._entries[key] = (now, version, fresh)
        return fresh
