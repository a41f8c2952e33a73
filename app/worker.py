"""The background worker: runs each job every so many seconds until stopped."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from app.config import Settings
from app.db import make_engine
from app.jobs import make_sender, make_tagger, poll_mailboxes

log = logging.getLogger(__name__)

# (name, interval in seconds, callable): other features append their jobs here.
Job = tuple[str, float, Callable[[], Any]]


def default_jobs(engine: Engine, settings: Settings) -> list[Job]:
    """Every periodic job of the service."""
    sender = make_sender(settings)
    tagger = make_tagger(settings)
    return [
        ("inbox", settings.poll_seconds, lambda: poll_mailboxes(engine, settings, sender, tagger)),
    ]


def run_jobs(jobs: list[Job], stop: threading.Event) -> None:
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
        stop.wait(max(0.0, min(due.values()) - time.monotonic()))


def run_worker(settings: Settings, *, stop: threading.Event | None = None) -> None:
    """Run every job until SIGTERM/SIGINT (or `stop`)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _s, _f: stop.set())
    engine = make_engine(settings.database_url)
    try:
        run_jobs(default_jobs(engine, settings), stop)
    finally:
        engine.dispose()
