"""`yijian worker`: runs every package's periodic jobs in one process.

A failing job is logged and retried at its next interval, never taking the loop down.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence

from sqlalchemy import Engine

from app.core.config import Settings
from app.core.db import make_engine
from app.core.jobs import Job, JobContext, JobFactory
from app.digest import jobs as digest_jobs
from app.inbox import jobs as inbox_jobs
from app.outbox.service import sender_from_settings
from app.tagging import start_tagger

log = logging.getLogger(__name__)

# What each package offers; a new package with periodic work adds its jobs() here.
JOB_FACTORIES: tuple[JobFactory, ...] = (inbox_jobs.jobs, digest_jobs.jobs)


def default_jobs(settings: Settings, engine: Engine) -> list[Job]:
    """Every periodic job this configuration can run."""
    context = JobContext(
        settings=settings,
        engine=engine,
        sender=sender_from_settings(settings),
        tagger=start_tagger(settings.tagger, model_dir=settings.model_dir),
    )
    return [job for factory in JOB_FACTORIES for job in factory(context)]


def run_jobs(jobs: Sequence[Job], stop: threading.Event) -> None:
    """Run each job when due until `stop` is set; a failing job is logged and retried later."""
    due = dict.fromkeys((job.name for job in jobs), 0.0)
    while not stop.is_set():
        for job in jobs:
            if stop.is_set() or time.monotonic() < due[job.name]:
                continue
            try:
                outcome = job.run()
                log.info("job %s: %s", job.name, getattr(outcome, "summary", lambda: "done")())
            except Exception:
                log.exception("job %s failed", job.name)
            due[job.name] = time.monotonic() + job.interval
        stop.wait(max(0.1, min(min(due.values(), default=60.0) - time.monotonic(), 60.0)))


def run_worker(
    settings: Settings, *, jobs: Sequence[Job] | None = None, stop: threading.Event | None = None
) -> None:
    """The worker process: the default jobs until SIGTERM or Ctrl-C (or `stop`)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _s, _f: stop.set())
    engine = make_engine(settings.database_url)
    try:
        run_jobs(jobs if jobs is not None else default_jobs(settings, engine), stop)
    finally:
        engine.dispose()
