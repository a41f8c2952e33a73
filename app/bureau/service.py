"""The bureau's own items: a school hands an item up (上报教体局), the bureau forwards a masked
copy down to the school (遮盖后转给学校). Who may see them is app.accounts.access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app.audit.service import record_audit
from app.bureau.masking import find_masks, mask_text
from app.core.errors import Conflict, Forbidden, Invalid
from app.deadlines.events import record_event
from app.dispatch.service import Mailing, dispatch_to_unit, previous_dispatch
from app.intake.service import clean_text
from app.models import AdminRole, AdminUser, Bureau, EventKind, Submission, Unit, utcnow
from app.review.service import get_item
from app.workdays.service import add_working_days

MAX_REASON = 500


@dataclass(frozen=True)
class ForwardProposal:
    original: str  # for the bureau admin's eyes only
    proposed: str  # the masked text the admin adjusts before confirming
    masks: int  # how many spans the proposal masked
    instruction: str = ""  # the 交办意见 and working days of the last forward, if any
    due_days: str = ""


def hand_up_item(
    session: Session, *, user: AdminUser, submission_id: int, reason: str, today: date
) -> None:
    """A unit admin hands an item up to the bureau: it leaves the unit's view, due by the
    bureau's answer time from today."""
    if user.role != AdminRole.unit_admin:
        raise Forbidden("只有学校管理员可以上报教体局。")
    sub = get_item(session, user=user, submission_id=submission_id)
    text = clean_text(reason)
    if not text:
        raise Invalid("请填写上报理由（例如涉及本校领导）。", field="reason")
    if len(text) > MAX_REASON:
        raise Invalid(f"上报理由不能超过 {MAX_REASON} 字。", field="reason")
    assert sub.id is not None
    sub.to_bureau = True
    sub.masked_text = None
    sub.assignee_id = None  # a reviewer of the school must not keep it either
    sub.due_on = add_working_days(today, _bureau(session, sub).answer_days)
    sub.updated_at = utcnow()
    session.add(sub)
    record_event(
        session, submission_id=sub.id, kind=EventKind.handed_up, actor_id=user.id, note=text
    )
    record_audit(
        session,
        actor_id=user.id,
        action="hand_up",
        unit_id=sub.unit_id,
        submission_id=sub.id,
        detail={"reason": text},
    )


def propose_forward(session: Session, *, user: AdminUser, submission_id: int) -> ForwardProposal:
    """The masks the system proposes before a bureau admin forwards an item to its school."""
    sub = _bureau_item(session, user=user, submission_id=submission_id)
    before = previous_dispatch(session, submission=sub)
    return ForwardProposal(
        original=sub.text,
        proposed=sub.masked_text or mask_text(sub.text),
        masks=len(find_masks(sub.text)),
        instruction=before.instruction,
        due_days=before.due_days,
    )


def forward_masked_item(
    session: Session,
    *,
    user: AdminUser,
    submission_id: int,
    masked_text: str,
    max_chars: int,
    instruction: str,
    due_days: str,
    today: date,
    mailing: Mailing,
) -> None:
    """转办: forward a bureau item to its school as the confirmed masked copy, with an
    instruction (交办意见) and optionally a wanted answer time; the school sees only that copy
    (no name, contact or files), the original stays with the bureau unchanged."""
    sub = _bureau_item(session, user=user, submission_id=submission_id)
    text = clean_text(masked_text)
    if not text:
        raise Invalid("转给学校的内容不能为空。", field="masked_text")
    if len(text) > max_chars:
        raise Invalid(f"内容不能超过 {max_chars} 字。", field="masked_text")
    sub.masked_text = text
    sub.updated_at = utcnow()
    session.add(sub)
    dispatch_to_unit(
        session,
        user=user,
        submission=sub,
        instruction=instruction,
        due_days=due_days,
        today=today,
        mailing=mailing,
    )


def _bureau_item(session: Session, *, user: AdminUser, submission_id: int) -> Submission:
    if user.role != AdminRole.bureau_admin:
        raise Forbidden("只有教育局管理员可以把意见转给学校。")
    sub = get_item(session, user=user, submission_id=submission_id)
    if not sub.to_bureau:
        raise Conflict("这条意见本来就由学校办理。")
    return sub


def _bureau(session: Session, sub: Submission) -> Bureau:
    unit = session.get(Unit, sub.unit_id)
    assert unit is not None
    bureau = session.get(Bureau, unit.bureau_id)
    assert bureau is not None
    return bureau
