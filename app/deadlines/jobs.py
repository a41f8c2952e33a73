"""The worker's 督办 job: queue the reminders due today (the outbox job sends them)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Engine

from app.core.db import claim_engine, session_scope
from app.core.jobs import Job, JobContext
from app.core.time import today_local
from app.deadlines.reminders import queue_reminders

log = logging.getLogger(__name__)

REMINDER_INTERVAL = timedelta(minutes=10).total_seconds()


def run_reminders(engine: Engine, *, from_addr: str, base_url: str) -> int:
    """One pass: queue today's reminders in one commit; how many items were reminded."""
    # BEGIN IMMEDIATE on SQLite: two workers take turns instead of one failing its commit.
    with claim_engine(engine) as claims, session_scope(claims) as session:
        return queue_reminders(session, today=today_local(), from_addr=from_addr, base_url=base_url)


def jobs(context: JobContext) -> list[Job]:
    """Every ten minutes: the 督办 reminders (needs YIJIAN_MAIL_FROM)."""
    from_addr = context.settings.mail_from
    if from_addr is None:
        log.warning("YIJIAN_MAIL_FROM is not set: no 督办 reminders")
        return []
    return [
        Job(
            "deadline-reminders",
            REMINDER_INTERVAL,
            lambda: run_reminders(
                context.engine, from_addr=from_addr, base_url=context.settings.base_url
            ),
        )
    ]
