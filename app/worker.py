"""`yijian worker`: runs every package's periodic jobs in one process.

A failing job is logged and retried at its next interval, never taking the loop down.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence

from sqlalchemy import Engine

from app.alerts import jobs as alerts_jobs
from app.core import crypto
from app.core.config import Settings
from app.core.db import make_engine
from app.core.jobs import Job, JobContext, JobFactory, run_jobs
from app.deadlines import jobs as deadline_jobs
from app.digest import jobs as digest_jobs
from app.groups import jobs as groups_jobs
from app.inbox import jobs as inbox_jobs
from app.outbox.service import sender_from_settings
from app.retention import jobs as retention_jobs
from app.stats import jobs as stats_jobs
from app.tagging import start_tagger

# What each package offers; a new package with periodic work adds its jobs() here.
JOB_FACTORIES: tuple[JobFactory, ...] = (
    inbox_jobs.jobs,
    digest_jobs.jobs,
    deadline_jobs.jobs,
    alerts_jobs.jobs,
    groups_jobs.jobs,
    retention_jobs.jobs,
    stats_jobs.jobs,
)


def default_jobs(settings: Settings, engine: Engine) -> list[Job]:
    """Every periodic job this configuration can run."""
    context = JobContext(
        settings=settings,
        engine=engine,
        sender=sender_from_settings(settings),
        tagger=start_tagger(settings.tagger, engine=engine),
    )
    return [job for factory in JOB_FACTORIES for job in factory(context)]


def run_worker(
    settings: Settings, *, jobs: Sequence[Job] | None = None, stop: threading.Event | None = None
) -> None:
    """The worker process: the default jobs until SIGTERM or Ctrl-C (or `stop`)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _s, _f: stop.set())
    crypto.install(settings.keyring())
    engine = make_engine(settings.database_url)
    try:
        run_jobs(jobs if jobs is not None else default_jobs(settings, engine), stop)
    finally:
        engine.dispose()
