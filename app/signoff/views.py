"""What the item page shows of sign-off: drafts waiting or sent back, and the templates
the reply form offers (one pre-filled when the page is asked for it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.models import AdminRole, AdminUser, ReplyTemplate, Submission
from app.signoff.service import DraftRow, list_drafts, list_templates, needs_signoff, template_text


@dataclass(frozen=True)
class ItemSignoff:
    drafts: list[DraftRow]
    can_decide: bool
    needs_signoff: bool  # this admin's reply would wait for approval
    templates: list[ReplyTemplate]
    template_id: str
    prefill: str


def item_signoff(
    session: Session, *, user: AdminUser, submission: Submission, template_id: str
) -> ItemSignoff:
    """The sign-off panel and reply-form templates of one item for this admin."""
    assert submission.id is not None
    return ItemSignoff(
        drafts=list_drafts(session, user=user, submission_id=submission.id),
        can_decide=user.role != AdminRole.reviewer,
        needs_signoff=needs_signoff(session, user=user, submission=submission),
        templates=list_templates(session, unit_id=submission.unit_id),
        template_id=template_id,
        prefill=template_text(session, submission=submission, template_id=template_id)
        if template_id
        else "",
    )
