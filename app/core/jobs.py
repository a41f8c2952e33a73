"""What a worker job is, and named checkpoints where tests can stop a job mid-way.

Each feature package offers its periodic jobs as `jobs(context) -> list[Job]` in its
jobs.py; app/worker.py collects them. A job is one tick: it commits at its own boundaries,
so a tick that dies loses nothing that was committed and repeats nothing that was marked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from app.core.config import Settings
from app.mail.outbound import MailSender
from app.tagging import Tagger


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
