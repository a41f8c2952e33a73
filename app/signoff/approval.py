"""Approving a draft: it becomes an ordinary reply, shown and mailed exactly as one."""

from __future__ import annotations

from sqlmodel import Session

from app.audit.service import record_audit
from app.deadlines.events import record_event
from app.models import AdminUser, EventKind, Reply, ReplyDraft
from app.review.replies import SavedReply, reply_to_item
from app.signoff.service import get_draft


def approve_draft(
    session: Session,
    *,
    user: AdminUser,
    draft_id: int,
    body: str,
    from_addr: str | None,
    base_url: str,
    secret: str,
) -> SavedReply:
    """Publish a pending draft (as the admin edited it) under its handler's name, its mail
    queued like any reply's; the draft goes."""
    # Locked first, so two approvals of one draft publish it once (the second finds it gone).
    session.get(ReplyDraft, draft_id, with_for_update=True)
    draft = get_draft(session, user=user, draft_id=draft_id)
    saved = reply_to_item(
        session,
        user=user,
        submission_id=draft.submission_id,
        body=body,
        public=draft.is_public,
        from_addr=from_addr,
        base_url=base_url,
        secret=secret,
    )
    reply = session.get(Reply, saved.reply_id)
    assert reply is not None
    reply.author_id = draft.author_id
    session.add(reply)
    session.delete(draft)
    record_event(
        session, submission_id=draft.submission_id, kind=EventKind.reply_approved, actor_id=user.id
    )
    record_audit(
        session,
        actor_id=user.id,
        action="reply_approved",
        submission_id=draft.submission_id,
        detail={"draft_id": draft_id, "reply_id": saved.reply_id},
    )
    return saved
