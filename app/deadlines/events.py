"""The item's handling timeline (办理记录): one row per step, who and when (to the minute).

Any package that moves an item along records the step here; a new step only adds an
EventKind (app/models/deadlines.py) with its label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.core.time import to_minute
from app.models import EVENT_LABELS, AdminUser, EventKind, SubmissionEvent, utcnow


def record_event(
    session: Session,
    *,
    submission_id: int,
    kind: EventKind,
    actor_id: int | None,
    note: str | None = None,
) -> None:
    """Add a step to the item's timeline (actor None: the system, e.g. a reminder)."""
    session.add(
        SubmissionEvent(
            submission_id=submission_id,
            kind=kind,
            actor_id=actor_id,
            note=note,
            created_at=to_minute(utcnow()),
        )
    )


@dataclass(frozen=True)
class EventView:
    at: datetime
    label: str
    actor: str  # "系统" for steps no person took
    note: str | None


def list_events(session: Session, *, submission_id: int) -> list[EventView]:
    """The item's timeline, oldest first."""
    rows = session.exec(
        select(SubmissionEvent, AdminUser)
        .outerjoin(AdminUser, col(AdminUser.id) == SubmissionEvent.actor_id)
        .where(SubmissionEvent.submission_id == submission_id)
        .order_by(col(SubmissionEvent.created_at), col(SubmissionEvent.id))
    ).all()
    return [
        EventView(
            at=event.created_at,
            label=EVENT_LABELS[EventKind(event.kind)],
            actor=(actor.display_name or actor.username) if actor else "系统",
            note=event.note,
        )
        for event, actor in rows
    ]
