"""`yijian worker`: runs the periodic jobs (inbox poller, digest schedule) in one process.

Jobs are (name, interval_seconds, callable) triples; a failing job is logged and retried at
its next interval, never taking the loop down.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine

from app.core.config import Settings
from app.core.db import make_engine
from app.jobs import make_tagger, poll_mailboxes, send_due_digests
from app.mail.outbound import sender_from_settings
from app.models import utcnow

log = logging.getLogger(__name__)

Job = tuple[str, float, Callable[[], Any]]
DIGEST_INTERVAL = 60.0


def default_jobs(settings: Settings, engine: Engine) -> list[Job]:
    """Every periodic job this configuration can run."""
    sender = sender_from_settings(settings)
    tagger = make_tagger(settings)
    jobs: list[Job] = [
        ("inbox", settings.poll_seconds, lambda: poll_mailboxes(engine, settings, sender, tagger)),
    ]
    if sender is not None:
        jobs.append(
            (
                "digest",
                DIGEST_INTERVAL,
                lambda: send_due_digests(engine, settings, sender, utcnow()),
            )
        )
    else:
        log.warning("YIJIAN_SMTP_HOST is not set: no acknowledgements and no digest")
    return jobs


def run_jobs(jobs: Sequence[Job], stop: threading.Event) -> None:
    """Run each job when due until `stop` is set; a failing job is logged and retried later."""
    due = dict.fromkeys((name for name, _i, _j in jobs), 0.0)
    while not stop.is_set():
        for name, interval, job in jobs:
            if stop.is_set() or time.monotonic() < due[name]:
                continue
            try:
                outcome = job()
                log.info("job %s: %s", name, getattr(outcome, "summary", lambda: "done")())
            except Exception:
                log.exception("job %s failed", name)
            due[name] = time.monotonic() + interval
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
