"""`yijian worker`: runs periodic jobs (the digest schedule) in one process.

Jobs are (name, interval_seconds, callable) triples; a failing job is logged and retried at
its next interval, never taking the loop down.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from app.config import Settings
from app.db import make_engine
from app.jobs import send_due_digests, smtp_sender
from app.models import utcnow

log = logging.getLogger(__name__)
Job = tuple[str, float, Callable[[], object]]
DIGEST_INTERVAL = 60.0


def default_jobs(settings: Settings, engine: Engine) -> list[Job]:
    """The jobs this configuration can run."""
    jobs: list[Job] = []
    if settings.smtp_host:
        sender = smtp_sender(settings)
        jobs.append(
            ("digest", DIGEST_INTERVAL,
             lambda: send_due_digests(engine, settings, sender, utcnow()))
        )
    else:
        log.warning("YIJIAN_SMTP_HOST is not set: the digest job is off")
    return jobs


def run_jobs(jobs: Sequence[Job], stop: threading.Event) -> None:
    """Run each job every interval until `stop` is set."""
    due = {name: 0.0 for name, _interval, _run in jobs}
    while not stop.is_set():
        for name, interval, run in jobs:
            if time.monotonic() < due[name]:
                continue
            try:
                run()
            except Exception:
                log.exception("job %s failed", name)
            due[name] = time.monotonic() + interval
        wait = min((d - time.monotonic() for d in due.values()), default=60.0)
        stop.wait(max(0.1, min(wait, 60.0)))


def run_worker(settings: Settings, *, jobs: Sequence[Job] | None = None,
               stop: threading.Event | None = None) -> None:
    """The worker process: default jobs, stopped cleanly by SIGTERM or Ctrl-C."""
    engine = make_engine(settings.database_url)
    if stop is None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _s, _f: stop.set())
    try:
        run_jobs(jobs if jobs is not None else default_jobs(settings, engine), stop)
    finally:
        engine.dispose()
