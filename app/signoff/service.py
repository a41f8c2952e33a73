"""答复需审核: a handler's reply waits as a draft until a unit admin approves it or sends it
back; 常用答复: titled stock answers a unit keeps for the reply form."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.accounts.access import visible_units
from app.audit.service import record_audit
from app.core.errors import Forbidden, Invalid, NotFound
from app.deadlines.events import record_event
from app.models import (
    DRAFT_STATE_LABELS,
    AdminRole,
    AdminUser,
    Bureau,
    DraftState,
    EventKind,
    ReplyDraft,
    ReplySignoff,
    ReplyTemplate,
    Submission,
    Unit,
)
from app.review.service import MAX_REPLY, get_item, may_act

MAX_TITLE = 100
MAX_COMMENT = 2000


@dataclass(frozen=True)
class DraftRow:
    draft: ReplyDraft
    unit_name: str
    state_label: str


def _clean(value: str, *, limit: int, empty: str, noun: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise Invalid(empty, field=field)
    if len(text) > limit:
        raise Invalid(f"{noun}不能超过 {limit} 字。", field=field)
    return text


def _require_manager(user: AdminUser) -> None:
    if user.role == AdminRole.reviewer:
        raise Forbidden("只有管理员可以审核答复和管理常用答复。")


def find_unit(session: Session, *, user: AdminUser, slug: str) -> Unit:
    """A unit this admin may manage, by slug."""
    _require_manager(user)
    found = next((u for u in visible_units(session, user=user) if u.slug == slug), None)
    if found is None:
        raise NotFound("没有找到这个单位，或您无权修改。")
    return found


@dataclass(frozen=True)
class SignoffSettings:
    bureau_default: bool  # for the units that have not chosen
    chosen: dict[int, bool]  # unit id -> its own choice
    required: set[int]  # the units whose handlers' replies wait, either way


def signoff_settings(session: Session, *, bureau_id: int, units: list[Unit]) -> SignoffSettings:
    """Whether each of these units of the bureau requires sign-off, and why."""
    ids = [u.id for u in units if u.id is not None]
    query = select(ReplySignoff).where(col(ReplySignoff.unit_id).in_(ids))
    chosen = {row.unit_id: row.required for row in session.exec(query).all()}
    bureau = session.get(Bureau, bureau_id)
    default = bureau is not None and bureau.reply_signoff
    return SignoffSettings(
        bureau_default=default,
        chosen=chosen,
        required={i for i in ids if chosen.get(i, default)},
    )


def set_signoff(
    session: Session, *, actor_id: int | None, unit: Unit, required: bool | None
) -> None:
    """Turn 答复需审核 on or off for a unit, or let it follow the bureau (None; audited)."""
    assert unit.id is not None
    row = session.get(ReplySignoff, unit.id)
    if required is None:
        if row is not None:
            session.delete(row)
    else:
        row = row or ReplySignoff(unit_id=unit.id)
        row.required = required
        session.add(row)
    record_audit(
        session,
        actor_id=actor_id,
        action="reply_signoff",
        unit_id=unit.id,
        detail={"required": required},
    )


def set_bureau_signoff(
    session: Session, *, actor_id: int | None, bureau_id: int, required: bool
) -> None:
    """Set the bureau's 答复需审核 default for the units that have not chosen (audited)."""
    bureau = session.get(Bureau, bureau_id)
    if bureau is None:
        raise NotFound("没有找到这个教育局。")
    bureau.reply_signoff = required
    session.add(bureau)
    record_audit(
        session, actor_id=actor_id, action="reply_signoff_default", detail={"required": required}
    )


def needs_signoff(session: Session, *, user: AdminUser, submission: Submission) -> bool:
    """Whether this admin's reply on the item must wait for approval: a handler's, in a unit
    that requires it (its own choice, else its bureau's default); admins' replies publish
    directly."""
    if user.role != AdminRole.reviewer:
        return False
    unit = session.get(Unit, submission.unit_id)
    assert unit is not None
    found = signoff_settings(session, bureau_id=unit.bureau_id, units=[unit])
    return submission.unit_id in found.required


def draft_reply(
    session: Session, *, user: AdminUser, submission: Submission, body: str, public: bool
) -> ReplyDraft:
    """Save a handler's reply as a draft for approval (it replaces their draft sent back)."""
    if not may_act(user, submission):
        raise Forbidden("这条意见没有分配给您，您只能查看。")
    text = _clean(body, limit=MAX_REPLY, empty="答复内容不能为空。", noun="答复", field="reply")
    returned = select(ReplyDraft).where(
        ReplyDraft.submission_id == submission.id,
        ReplyDraft.author_id == user.id,
        ReplyDraft.state == DraftState.returned,
    )
    for old in session.exec(returned).all():
        session.delete(old)
    draft = ReplyDraft(
        submission_id=submission.id or 0, author_id=user.id, body=text, is_public=public
    )
    session.add(draft)
    session.flush()
    record_audit(
        session,
        actor_id=user.id,
        action="reply_draft",
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail={"draft_id": draft.id, "public": public},
    )
    return draft


def get_draft(session: Session, *, user: AdminUser, draft_id: int) -> ReplyDraft:
    """A draft waiting for this admin's decision; NotFound outside their units."""
    _require_manager(user)
    draft = session.get(ReplyDraft, draft_id)
    if draft is None:
        raise NotFound("没有找到这条待审核答复。")
    get_item(session, user=user, submission_id=draft.submission_id)
    if draft.state != DraftState.pending:
        raise Invalid("这条答复已退回修改，等待承办人重新提交。", field="draft")
    return draft


def return_draft(session: Session, *, user: AdminUser, draft_id: int, comment: str) -> ReplyDraft:
    """Send a draft back to its handler with a comment (on the timeline, audited)."""
    draft = get_draft(session, user=user, draft_id=draft_id)
    text = _clean(
        comment, limit=MAX_COMMENT, empty="请写明退回的理由。", noun="退回理由", field="comment"
    )
    draft.state = DraftState.returned
    draft.comment = text
    session.add(draft)
    record_event(
        session,
        submission_id=draft.submission_id,
        kind=EventKind.reply_returned,
        actor_id=user.id,
        note=text,
    )
    record_audit(
        session,
        actor_id=user.id,
        action="reply_returned",
        submission_id=draft.submission_id,
        detail={"draft_id": draft.id},
    )
    return draft


def list_drafts(
    session: Session, *, user: AdminUser, submission_id: int | None = None
) -> list[DraftRow]:
    """Drafts this admin may see: every draft of their units for admins (oldest first), a
    handler's own; optionally of one item."""
    units = {u.id: u.name for u in visible_units(session, user=user)}
    query = (
        select(ReplyDraft, Submission.unit_id)
        .join(Submission, col(Submission.id) == col(ReplyDraft.submission_id))
        .where(col(Submission.unit_id).in_(list(units)))
        .order_by(col(ReplyDraft.id))
    )
    if user.role == AdminRole.reviewer:
        query = query.where(ReplyDraft.author_id == user.id)
    if submission_id is not None:
        query = query.where(ReplyDraft.submission_id == submission_id)
    return [
        DraftRow(d, units.get(uid, ""), DRAFT_STATE_LABELS[DraftState(d.state)])
        for d, uid in session.exec(query).all()
    ]


def list_templates(session: Session, *, unit_id: int) -> list[ReplyTemplate]:
    """A unit's reply templates, by title."""
    query = (
        select(ReplyTemplate)
        .where(ReplyTemplate.unit_id == unit_id)
        .order_by(col(ReplyTemplate.title), col(ReplyTemplate.id))
    )
    return list(session.exec(query).all())


def _own_template(session: Session, *, user: AdminUser, template_id: int) -> ReplyTemplate:
    _require_manager(user)
    found = session.get(ReplyTemplate, template_id)
    if found is None or found.unit_id not in {u.id for u in visible_units(session, user=user)}:
        raise NotFound("没有找到这条常用答复。")
    return found


def save_template(
    session: Session,
    *,
    user: AdminUser,
    unit: Unit,
    template_id: int | None,
    title: str,
    body: str,
) -> ReplyTemplate:
    """Add a unit's reply template, or change one (template_id)."""
    assert unit.id is not None
    clean_title = _clean(
        title, limit=MAX_TITLE, empty="请填写常用答复的标题。", noun="标题", field="title"
    )
    clean_body = _clean(
        body, limit=MAX_REPLY, empty="常用答复的内容不能为空。", noun="答复", field="body"
    )
    if template_id is None:
        found = ReplyTemplate(unit_id=unit.id, title=clean_title, body=clean_body)
    else:
        found = _own_template(session, user=user, template_id=template_id)
        if found.unit_id != unit.id:
            raise NotFound("没有找到这条常用答复。")
        found.title, found.body = clean_title, clean_body
    session.add(found)
    session.flush()
    record_audit(
        session,
        actor_id=user.id,
        action="reply_template",
        unit_id=unit.id,
        detail={"template_id": found.id, "edited": template_id is not None},
    )
    return found


def delete_template(session: Session, *, user: AdminUser, template_id: int) -> None:
    """Delete a unit's reply template (audited)."""
    found = _own_template(session, user=user, template_id=template_id)
    session.delete(found)
    record_audit(
        session,
        actor_id=user.id,
        action="reply_template_deleted",
        unit_id=found.unit_id,
        detail={"template_id": template_id},
    )


def template_text(session: Session, *, submission: Submission, template_id: str) -> str:
    """The body of one of the item's unit's templates, to pre-fill the reply form."""
    found = session.get(ReplyTemplate, int(template_id)) if template_id.isdigit() else None
    if found is None or found.unit_id != submission.unit_id:
        raise NotFound("没有找到这条常用答复。")
    return found.body
