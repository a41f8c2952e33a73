"""What a worker job is, and named checkpoints where tests can stop a job mid-way.

Each feature package offers its periodic jobs as `jobs(context) -> list[Job]` in its
jobs.py; app/worker.py collects them. A package's jobs.py also holds the sequences that must
commit between steps (claim, send, mark), run by the worker, the CLI or a button alike: they
take the engine and commit at their own boundaries, so a run that dies loses nothing that was
committed and repeats nothing that was marked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from app.core.config import Settings
from app.mail.outbound import MailSender
from app.tagging import Tagger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval: float
    run: Callable[[], Any]


@dataclass(frozen=True)
class JobContext:
    """What jobs share in one worker process."""

    settings: Settings
    engine: Engine
    sender: MailSender | None
    tagger: Tagger


JobFactory = Callable[[JobContext], list[Job]]

_checkpoint_hooks: list[Callable[[str], None]] = []


def on_checkpoint(hook: Callable[[str], None]) -> None:
    """Call `hook(name)` at every checkpoint (crash tests install one that kills the process)."""
    _checkpoint_hooks.append(hook)


def checkpoint(name: str) -> None:
    """A named point in a job where a crash must lose and duplicate nothing."""
    for hook in _checkpoint_hooks:
        hook(name)


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
