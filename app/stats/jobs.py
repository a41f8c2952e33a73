"""The worker keeps the stats page's change log short (app/stats/store.py reads it)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from app.core.db import session_scope
from app.core.jobs import Job, JobContext
from app.models.base import utcnow
from app.stats.store import prune_log

PRUNE_INTERVAL = timedelta(hours=1).total_seconds()


def prune(engine: Engine) -> int:
    """Drop the change log's rows of the days before yesterday; how many went."""
    with session_scope(engine) as session:
        return prune_log(session, today_utc=utcnow().date())


def jobs(context: JobContext) -> list[Job]:
    """Hourly: prune the stats change log."""
    return [Job("stats-log", PRUNE_INTERVAL, lambda: prune(context.engine))]
