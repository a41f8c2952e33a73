from app.intake.service import NewSubmission
from tests.factories import new_submission


def numbered(i: int) -> NewSubmission:
    """The i-th of many distinct submissions to the demo unit, each with a key of its own."""
    return new_submission(text=f"第{i}条：建议延长图书馆开放时间。", idempotency_key=f"grp-{i:06d}")
