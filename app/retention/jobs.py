"""The worker's daily retention run: once a day, however many workers run."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine

from app.core.db import exclusive, session_scope
from app.core.jobs import Job, JobContext
from app.core.time import today_local
from app.models import RetentionRun
from app.retention.service import PurgeResult, purge_due_items

# Hourly ticks: the first tick of each day in China runs the policy; the others find it done.
RETENTION_INTERVAL = timedelta(hours=1).total_seconds()


def run_retention(engine: Engine, *, today: date | None = None) -> PurgeResult | None:
    """Apply the policy unless another worker holds the run or today's run is done (None)."""
    day = today or today_local()
    with exclusive(engine, "retention") as got:
        if not got:
            return None
        with session_scope(engine) as session:
            if session.get(RetentionRun, day) is not None:
                return None
            # The claim commits with the purge: a run that dies is repeated, never half-done.
            session.add(RetentionRun(day=day))
            return purge_due_items(session, today=day)


def jobs(context: JobContext) -> list[Job]:
    """Once a day: remove identities and raw mail of items closed long enough ago."""
    return [Job("retention", RETENTION_INTERVAL, lambda: run_retention(context.engine))]
