"""The audit log of admin actions: who did what, when, to which item."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from app.models import AuditLog


def record_audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    unit_id: int | None = None,
    submission_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry; callers never put sender identity in `detail`."""
    session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            unit_id=unit_id,
            submission_id=submission_id,
            detail=json.dumps(detail or {}, ensure_ascii=False),
        )
    )
