"""Tags on submissions: admin corrections, which become training data for the tagger."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlmodel import Session, col, select

from app.audit.service import record_audit
from app.core.errors import Invalid
from app.models import CHECK_NAMES, Status, Submission, TagCorrection, utcnow


def correct_tag(
    session: Session, *, submission: Submission, check: int, actor_id: int | None
) -> TagCorrection | None:
    """Set an item's check by hand and keep the correction; None when nothing changed."""
    if check not in CHECK_NAMES:
        raise Invalid("归类只能是 0 到 5。", field="check")
    old = submission.check
    confirmed = submission.tagger == "admin"
    if old == check and confirmed:
        return None
    correction = TagCorrection(
        submission_id=submission.id or 0,
        text=submission.text,
        old_check=old,
        new_check=check,
        actor_id=actor_id,
    )
    session.add(correction)
    submission.check = check
    submission.check_score = 1.0
    submission.check_evidence = json.dumps([], ensure_ascii=False)
    submission.tagger = "admin"
    if submission.status == Status.new:
        submission.status = Status.classified
    submission.updated_at = utcnow()
    session.add(submission)
    record_audit(
        session,
        actor_id=actor_id,
        action="retag",
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail={"from": old, "to": check},
    )
    return correction


def iter_corrections(session: Session) -> Iterator[tuple[str, int]]:
    """(text, check) for every correction, oldest first, so later ones win when retraining."""
    rows = session.exec(select(TagCorrection).order_by(col(TagCorrection.id))).all()
    for row in rows:
        yield row.text, row.new_check
