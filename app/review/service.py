"""Acting on one queue item: status, assignment, notes, replies, duplicates, bulk changes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TypeVar

from sqlmodel import Session, col, select

from app.accounts.access import visible_unit_ids
from app.audit.service import record_audit
from app.core.errors import Forbidden, Invalid, NotFound
from app.mail.compose import build_message
from app.models import (
    STATUS_LABELS,
    AdminRole,
    AdminUser,
    Attachment,
    InternalNote,
    Reply,
    Status,
    Submission,
    SubmissionFollowup,
    Unit,
    utcnow,
)
from app.tagging.corrections import correct_tag

MAX_REPLY = 5000
MAX_NOTE = 2000
MAX_BULK = 500
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")

# Where an item may go next. 重复 is reached only by naming the item it duplicates.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.new: (
        Status.classified,
        Status.forwarded,
        Status.replied,
        Status.closed,
        Status.invalid,
    ),
    Status.classified: (Status.forwarded, Status.replied, Status.closed, Status.invalid),
    Status.forwarded: (Status.classified, Status.replied, Status.closed, Status.invalid),
    Status.replied: (Status.forwarded, Status.closed),
    Status.closed: (Status.forwarded,),  # reopened for more work
    Status.invalid: (Status.new,),  # undo a mistaken 无效
    Status.duplicate: (Status.new,),  # undo a mistaken merge
}
_BEFORE_FORWARDED = (Status.new, Status.classified)
_BEFORE_REPLIED = (Status.new, Status.classified, Status.forwarded)


def get_item(session: Session, *, user: AdminUser, submission_id: int) -> Submission:
    """An item this admin may see; NotFound for others, so ids of other units leak nothing."""
    sub = session.get(Submission, submission_id)
    if sub is None or sub.unit_id not in visible_unit_ids(session, user=user):
        raise NotFound("没有找到这条意见，或您无权查看。")
    return sub


def may_act(user: AdminUser, submission: Submission) -> bool:
    """Admins act on every item they see; a reviewer only on the items assigned to them."""
    if user.role == AdminRole.reviewer:
        return submission.assignee_id == user.id
    return True


def may_assign(user: AdminUser) -> bool:
    """Only bureau and unit admins hand items to reviewers."""
    return user.role != AdminRole.reviewer


def _require_act(user: AdminUser, submission: Submission) -> None:
    if not may_act(user, submission):
        raise Forbidden("这条意见没有分配给您，您只能查看。")


def _touch(session: Session, submission: Submission, status: Status | None = None) -> None:
    if status is not None:
        submission.status = status
    submission.updated_at = utcnow()
    session.add(submission)


def retag_item(session: Session, *, user: AdminUser, submission: Submission, check: int) -> None:
    """Correct the item's check (kept as a training example for the tagger)."""
    _require_act(user, submission)
    correct_tag(session, submission=submission, check=check, actor_id=user.id)


def change_status(
    session: Session, *, user: AdminUser, submission: Submission, status: Status
) -> None:
    """Move the item along the workflow; refuse jumps the workflow does not allow."""
    _require_act(user, submission)
    old = Status(submission.status)
    if status == old:
        return
    if status not in TRANSITIONS[old]:
        raise Invalid(
            f"不能从“{STATUS_LABELS[old]}”改为“{STATUS_LABELS[status]}”。", field="status"
        )
    if old == Status.duplicate:
        submission.duplicate_of = None
    _touch(session, submission, status)
    record_audit(
        session,
        actor_id=user.id,
        action="status",
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail={"from": old.value, "to": status.value},
    )


def assignable_users(session: Session, *, unit_ids: Sequence[int]) -> list[AdminUser]:
    """Active reviewers and unit admins of these units, by name."""
    return list(
        session.exec(
            select(AdminUser)
            .where(col(AdminUser.unit_id).in_(list(unit_ids)), col(AdminUser.active).is_(True))
            .order_by(col(AdminUser.username))
        ).all()
    )


def assign_item(
    session: Session, *, user: AdminUser, submission: Submission, assignee_id: int | None
) -> None:
    """Forward the item to a reviewer of its unit (None takes it back)."""
    if not may_assign(user):
        raise Forbidden("审核人不能分配意见。")
    if assignee_id is not None:
        allowed = {u.id for u in assignable_users(session, unit_ids=[submission.unit_id])}
        if assignee_id not in allowed:
            raise Invalid("只能分配给本单位的审核人或管理员。", field="assignee")
    old = submission.assignee_id
    if old == assignee_id:
        return
    submission.assignee_id = assignee_id
    forwarded = assignee_id is not None and Status(submission.status) in _BEFORE_FORWARDED
    _touch(session, submission, Status.forwarded if forwarded else None)
    record_audit(
        session,
        actor_id=user.id,
        action="assign",
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail={"from": old, "to": assignee_id},
    )


def add_note(
    session: Session, *, user: AdminUser, submission: Submission, body: str
) -> InternalNote:
    """An internal note on the item (admins only, never shown to the sender)."""
    _require_act(user, submission)
    text = body.strip()
    if not text:
        raise Invalid("备注不能为空。", field="note")
    if len(text) > MAX_NOTE:
        raise Invalid(f"备注不能超过 {MAX_NOTE} 字。", field="note")
    note = InternalNote(submission_id=submission.id or 0, author_id=user.id, body=text)
    session.add(note)
    session.flush()
    record_audit(
        session,
        actor_id=user.id,
        action="note",
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail={"note_id": note.id},
    )
    return note


def reply_address(submission: Submission) -> str | None:
    """The sender's email address, when a named sender left one as their contact."""
    if submission.anonymous or not submission.contact:
        return None
    value = submission.contact.strip()
    return value if _EMAIL.match(value) else None


def add_reply(
    session: Session, *, user: AdminUser, submission: Submission, body: str, public: bool
) -> Reply:
    """Answer the sender: shown on their receipt page; the item becomes 已答复."""
    _require_act(user, submission)
    text = body.strip()
    if not text:
        raise Invalid("答复内容不能为空。", field="reply")
    if len(text) > MAX_REPLY:
        raise Invalid(f"答复不能超过 {MAX_REPLY} 字。", field="reply")
    reply = Reply(submission_id=submission.id or 0, author_id=user.id, body=text, is_public=public)
    session.add(reply)
    session.flush()
    if Status(submission.status) in _BEFORE_REPLIED:
        _touch(session, submission, Status.replied)
    record_audit(
        session,
        actor_id=user.id,
        action="reply",
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail={"reply_id": reply.id, "public": public},
    )
    return reply


def reply_email(
    *, submission: Submission, unit_name: str, body: str, from_addr: str, base_url: str
) -> EmailMessage | None:
    """The reply as an email to a named sender's address, or None when there is none."""
    to = reply_address(submission)
    if to is None:
        return None
    text = (
        "您好：\n\n"
        f"感谢您向{unit_name}提出的意见和建议。答复如下：\n\n"
        f"{body}\n\n"
        f"凭回执码可在 {base_url.rstrip('/')}/r 查看处理进度和全部答复。\n\n"
        f"{unit_name}\n"
    )
    return build_message(
        from_addr=from_addr,
        from_name=f"{unit_name}意见箱",
        to_addrs=[to],
        subject=f"{unit_name}对您意见的答复",
        text=text,
        message_id_domain=from_addr.rpartition("@")[2] or "localhost",
        headers={"Auto-Submitted": "auto-generated"},
    )


def mark_duplicate(
    session: Session, *, user: AdminUser, submission: Submission, target_id: int
) -> None:
    """Merge the item into an earlier one it repeats: status 重复, duplicate_of the original."""
    _require_act(user, submission)
    if target_id == submission.id:
        raise Invalid("不能把意见标记为自己的重复。", field="duplicate_of")
    try:
        target = get_item(session, user=user, submission_id=target_id)
    except NotFound as exc:
        raise Invalid("没有找到要合并到的意见编号。", field="duplicate_of") from exc
    # Point at the original, never at another duplicate, so chains stay one step long.
    original = target
    while original.duplicate_of is not None:
        nxt = session.get(Submission, original.duplicate_of)
        if nxt is None:
            break
        original = nxt
    if original.id == submission.id:
        raise Invalid("这条意见本身就是对方的原件，不能互相合并。", field="duplicate_of")
    old = Status(submission.status)
    submission.duplicate_of = original.id
    _touch(session, submission, Status.duplicate)
    record_audit(
        session,
        actor_id=user.id,
        action="duplicate",
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail={"of": original.id, "from": old.value},
    )


@dataclass(frozen=True)
class ItemDetail:
    submission: Submission
    unit: Unit
    attachments: list[Attachment]
    replies: list[Reply]
    followups: list[SubmissionFollowup]  # what the sender wrote back (answering our mail)
    notes: list[InternalNote]
    duplicates: list[int]
    names: dict[int, str]  # admin id -> display name, for authors and the assignee


_ItemRow = TypeVar("_ItemRow", Attachment, Reply, SubmissionFollowup, InternalNote)


def _of_item(session: Session, model: type[_ItemRow], submission_id: int | None) -> list[_ItemRow]:
    """An item's rows of one of its tables, oldest first."""
    query = select(model).where(model.submission_id == submission_id).order_by(col(model.id))
    return list(session.exec(query).all())


def item_detail(session: Session, *, submission: Submission) -> ItemDetail:
    """Everything the item page shows (file contents are not loaded)."""
    unit = session.get(Unit, submission.unit_id)
    assert unit is not None
    attachments = _of_item(session, Attachment, submission.id)
    replies = _of_item(session, Reply, submission.id)
    followups = _of_item(session, SubmissionFollowup, submission.id)
    notes = _of_item(session, InternalNote, submission.id)
    duplicates = [
        i
        for i in session.exec(
            select(Submission.id).where(Submission.duplicate_of == submission.id)
        ).all()
        if i is not None
    ]
    users = session.exec(select(AdminUser).where(AdminUser.bureau_id == unit.bureau_id)).all()
    names = {u.id: u.display_name or u.username for u in users if u.id is not None}
    return ItemDetail(submission, unit, attachments, replies, followups, notes, duplicates, names)


def get_attachment(
    session: Session, *, user: AdminUser, submission_id: int, attachment_id: int
) -> Attachment:
    """A file of an item this admin may see."""
    get_item(session, user=user, submission_id=submission_id)
    found = session.get(Attachment, attachment_id)
    if found is None or found.submission_id != submission_id:
        raise NotFound("没有找到这个附件。")
    return found


BULK_ACTIONS = ("retag", "assign", "status")


def bulk_apply(
    session: Session, *, user: AdminUser, ids: Sequence[int], action: str, value: str
) -> int:
    """Apply one change to many items; all or nothing (the caller rolls back on error)."""
    if action not in BULK_ACTIONS:
        raise Invalid("请选择批量操作。", field="action")
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise Invalid("请先勾选要处理的意见。", field="ids")
    if len(unique) > MAX_BULK:
        raise Invalid(f"一次最多处理 {MAX_BULK} 条。", field="ids")
    items = [get_item(session, user=user, submission_id=i) for i in unique]
    for sub in items:
        if action == "retag":
            if not value.isdigit():
                raise Invalid("请选择五查类别。", field="value")
            retag_item(session, user=user, submission=sub, check=int(value))
        elif action == "assign":
            assign_item(
                session,
                user=user,
                submission=sub,
                assignee_id=int(value) if value.isdigit() else None,
            )
        else:
            if value not in {s.value for s in Status} or value == Status.duplicate.value:
                raise Invalid("请选择办理状态。", field="value")
            change_status(session, user=user, submission=sub, status=Status(value))
    return len(items)
