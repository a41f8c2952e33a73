"""Acting on queue items: status, assignment, notes, replies, duplicates, bulk changes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import insert, inspect, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.accounts.access import (
    as_seen_by,
    held_by_bureau_only,
    is_masked_for,
    select_visible_submissions,
)
from app.audit.service import record_audit
from app.concerns.service import promote_check
from app.core.errors import Forbidden, Invalid, NotFound
from app.deadlines.events import record_event
from app.models import (
    STATUS_LABELS,
    AdminRole,
    AdminUser,
    Attachment,
    EventKind,
    InternalNote,
    Reply,
    Status,
    Submission,
    Unit,
    utcnow,
)
from app.tagging.corrections import correct_tag

MAX_REPLY = 5000
MAX_NOTE = 2000
MAX_BULK = 500

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
SETTABLE_STATUSES = tuple(s for s in Status if s != Status.duplicate)
_BEFORE_FORWARDED = (Status.new, Status.classified)
_BEFORE_REPLIED = (Status.new, Status.classified, Status.forwarded)
# Status changes that are steps on the item's 办理记录 timeline.
_STEPS: dict[tuple[Status | None, Status], EventKind] = {
    (None, Status.closed): EventKind.closed,
    (Status.replied, Status.forwarded): EventKind.reopened,
    (Status.closed, Status.forwarded): EventKind.reopened,
}


class ItemAction(StrEnum):
    """The changes the item page posts, each with one form field."""

    retag = "retag"
    status = "status"
    assign = "assign"
    note = "note"
    duplicate = "duplicate"


BULK_ACTIONS = (ItemAction.retag, ItemAction.assign, ItemAction.status)


def get_item(session: Session, *, user: AdminUser, submission_id: int) -> Submission:
    """An item this admin may see; NotFound for others, so ids of other units leak nothing."""
    query = select_visible_submissions(session, user=user).where(
        col(Submission.id) == submission_id
    )
    sub = session.scalars(query).first()
    if sub is None:
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


def _audit(
    session: Session, user: AdminUser, submission: Submission, action: str, detail: dict[str, Any]
) -> None:
    record_audit(
        session,
        actor_id=user.id,
        action=action,
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail=detail,
    )


def _text(body: str, *, limit: int, noun: str, empty: str, field: str) -> str:
    text = body.strip()
    if not text:
        raise Invalid(empty, field=field)
    if len(text) > limit:
        raise Invalid(f"{noun}不能超过 {limit} 字。", field=field)
    return text


def _number(value: str, message: str, field: str) -> int:
    digits = value.strip()
    # isdigit() alone also passes "²", which int() refuses.
    if not (digits.isascii() and digits.isdigit()):
        raise Invalid(message, field=field)
    return int(digits)


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
    _audit(session, user, submission, "status", {"from": old.value, "to": status.value})
    step = _STEPS.get((old, status)) or _STEPS.get((None, status))
    if step is not None:
        record_event(session, submission_id=submission.id or 0, kind=step, actor_id=user.id)


def assignable_users(session: Session, *, unit_ids: Sequence[int]) -> list[AdminUser]:
    """Active reviewers and unit admins of these units, by name."""
    return list(
        session.exec(
            select(AdminUser)
            .where(col(AdminUser.unit_id).in_(list(unit_ids)), col(AdminUser.active).is_(True))
            .order_by(col(AdminUser.username))
        ).all()
    )


def assign_items(
    session: Session,
    *,
    user: AdminUser,
    items: Sequence[Submission],
    assignee_id: int | None,
    instruction: str | None = None,
) -> None:
    """Forward items to a reviewer of their unit (None takes them back), each a step on the
    item's timeline with the instruction (交办意见) if any."""
    if not may_assign(user):
        raise Forbidden("审核人不能分配意见。")
    # One look-up for all the items' units: (unit, admin) pairs an item may go to.
    allowed: dict[tuple[int | None, int | None], str] = {}
    if assignee_id is not None:
        units = list({sub.unit_id for sub in items})
        allowed = {
            (u.unit_id, u.id): u.display_name or u.username
            for u in assignable_users(session, unit_ids=units)
        }
    for sub in items:
        if assignee_id is not None and held_by_bureau_only(sub):
            raise Invalid(
                "这条意见由教育局办理，学校的账号看不到它：请先遮盖后转给学校，再分配。",
                field="assignee",
            )
        if assignee_id is not None and (sub.unit_id, assignee_id) not in allowed:
            raise Invalid("只能分配给本单位的审核人或管理员。", field="assignee")
        old = sub.assignee_id
        if old == assignee_id:
            continue
        sub.assignee_id = assignee_id
        forwarded = assignee_id is not None and Status(sub.status) in _BEFORE_FORWARDED
        _touch(session, sub, Status.forwarded if forwarded else None)
        _audit(session, user, sub, "assign", {"from": old, "to": assignee_id})
        name = allowed.get((sub.unit_id, assignee_id), "收回，不分配")
        record_event(
            session,
            submission_id=sub.id or 0,
            kind=EventKind.assigned,
            actor_id=user.id,
            note=f"{name}：{instruction}" if instruction else name,
        )


def add_note(
    session: Session, *, user: AdminUser, submission: Submission, body: str
) -> InternalNote:
    """An internal note on the item (admins only, never shown to the sender)."""
    _require_act(user, submission)
    text = _text(body, limit=MAX_NOTE, noun="备注", empty="备注不能为空。", field="note")
    note = InternalNote(submission_id=submission.id or 0, author_id=user.id, body=text)
    session.add(note)
    session.flush()
    _audit(session, user, submission, "note", {"note_id": note.id})
    return note


def add_reply(
    session: Session, *, user: AdminUser, submission: Submission, body: str, public: bool
) -> Reply:
    """Answer the sender: shown on their receipt page; the item becomes 已答复."""
    _require_act(user, submission)
    text = _text(body, limit=MAX_REPLY, noun="答复", empty="答复内容不能为空。", field="reply")
    reply = Reply(submission_id=submission.id or 0, author_id=user.id, body=text, is_public=public)
    session.add(reply)
    session.flush()
    if Status(submission.status) in _BEFORE_REPLIED:
        _touch(session, submission, Status.replied)
    _audit(session, user, submission, "reply", {"reply_id": reply.id, "public": public})
    record_event(
        session, submission_id=submission.id or 0, kind=EventKind.replied, actor_id=user.id
    )
    return reply


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
    _audit(session, user, submission, "duplicate", {"of": original.id, "from": old.value})


def _apply(
    session: Session,
    *,
    user: AdminUser,
    items: Sequence[Submission],
    action: ItemAction,
    value: str,
) -> None:
    """Read the form's value once, then make the change on each item in turn."""
    if action == ItemAction.retag:
        check = _number(value, "请选择五查类别。", "check")
        for sub in items:
            retag_item(session, user=user, submission=sub, check=check)
        # The corrected check leads each item's concerns (兼涉), in one pass for all.
        promote_check(session, submission_ids=[s.id for s in items if s.id], check=check)
    elif action == ItemAction.status:
        if value not in {s.value for s in SETTABLE_STATUSES}:
            raise Invalid("请选择办理状态。", field="status")
        for sub in items:
            change_status(session, user=user, submission=sub, status=Status(value))
    elif action == ItemAction.assign:
        assignee = _number(value, "请选择审核人。", "assignee") if value else None
        assign_items(session, user=user, items=items, assignee_id=assignee)
    elif action == ItemAction.note:
        for sub in items:
            add_note(session, user=user, submission=sub, body=value)
    else:
        target = _number(value, "请填写原意见的编号。", "duplicate_of")
        for sub in items:
            mark_duplicate(session, user=user, submission=sub, target_id=target)


def act_on_item(
    session: Session, *, user: AdminUser, submission_id: int, action: ItemAction, value: str
) -> None:
    """Make one change from the item page (its form field as sent) to an item this admin sees."""
    item = get_item(session, user=user, submission_id=submission_id)
    _apply(session, user=user, items=[item], action=action, value=value)


def bulk_apply(
    session: Session, *, user: AdminUser, ids: Sequence[int], action: str, value: str
) -> int:
    """Apply one change to many items; all or nothing (the caller rolls back on error).

    A fixed number of statements however many items: one SELECT loads them all, and the
    changes are written by _write_in_bulk.
    """
    if action not in BULK_ACTIONS:
        raise Invalid("请选择批量操作。", field="action")
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise Invalid("请先勾选要处理的意见。", field="ids")
    if len(unique) > MAX_BULK:
        raise Invalid(f"一次最多处理 {MAX_BULK} 条。", field="ids")
    query = select_visible_submissions(session, user=user).where(col(Submission.id).in_(unique))
    found = {sub.id: sub for sub in session.scalars(query)}
    if len(found) != len(unique):
        raise NotFound("没有找到这条意见，或您无权查看。")
    items = [found[i] for i in unique]
    _apply(session, user=user, items=items, action=ItemAction(action), value=value)
    record_audit(
        session, actor_id=user.id, action="bulk", detail={"action": action, "count": len(items)}
    )
    _write_in_bulk(session)
    return len(items)


def _write_in_bulk(session: Session) -> None:
    """Write the session's new and changed rows with one statement per table and column set.

    The flush sends one INSERT per audit entry and tag correction (SQLite cannot tell which
    generated id went to which row of a multi-row INSERT), and batches UPDATEs only over
    neighbouring rows that change the same columns, which items of mixed status are not: a
    re-tag of 500 such items flushed about 1,300 statements.
    """
    inserts: defaultdict[type[Any], list[dict[str, Any]]] = defaultdict(list)
    updates: defaultdict[tuple[type[Any], frozenset[str]], list[dict[str, Any]]] = defaultdict(list)
    for obj in list(session.new):
        mapper = inspect(type(obj))
        keys = [c.key for c in mapper.columns if not c.primary_key]
        inserts[type(obj)].append({key: getattr(obj, key) for key in keys})
        session.expunge(obj)
    for obj in list(session.dirty):
        state = inspect(obj)
        changed = {a.key: a.value for a in state.attrs if a.history.has_changes()}
        if not changed:
            continue
        for key, value in changed.items():
            set_committed_value(obj, key, value)  # written here, so the flush skips it
        primary = {c.key: getattr(obj, c.key) for c in state.mapper.primary_key}
        updates[type(obj), frozenset(changed)].append(primary | changed)
    # Only now: each execute autoflushes, which must find nothing left to write row by row.
    for model, rows in inserts.items():
        # NULLs written out, or rows with None in other columns would go in separate batches.
        session.execute(insert(model).execution_options(render_nulls=True), rows)
    for (model, _), rows in updates.items():
        session.execute(update(model), rows)


@dataclass(frozen=True)
class ItemDetail:
    submission: Submission
    unit: Unit
    attachments: list[Attachment]
    notes: list[InternalNote]
    duplicates: list[int]
    names: dict[int, str]  # admin id -> display name, for authors and the assignee
    assignees: list[AdminUser]  # whom this admin may forward the item to (none: a reviewer)


_ItemRow = TypeVar("_ItemRow", Attachment, InternalNote)


def _of_item(session: Session, model: type[_ItemRow], submission_id: int | None) -> list[_ItemRow]:
    """An item's rows of one of its tables, oldest first."""
    query = select(model).where(model.submission_id == submission_id).order_by(col(model.id))
    return list(session.exec(query).all())


def load_item(session: Session, *, user: AdminUser, submission_id: int) -> ItemDetail:
    """Everything the item page shows of an item this admin may see (no file contents)."""
    submission = get_item(session, user=user, submission_id=submission_id)
    unit = session.get(Unit, submission.unit_id)
    assert unit is not None
    duplicates = [
        i
        for i in session.exec(
            select(Submission.id).where(Submission.duplicate_of == submission.id)
        ).all()
        if i is not None
    ]
    users = session.exec(select(AdminUser).where(AdminUser.bureau_id == unit.bureau_id)).all()
    masked = is_masked_for(submission, user=user)
    return ItemDetail(
        submission=as_seen_by(submission, user=user),
        unit=unit,
        # Photos and files may show the sender: the bureau keeps them with the original.
        attachments=[] if masked else _of_item(session, Attachment, submission.id),
        notes=_of_item(session, InternalNote, submission.id),
        duplicates=duplicates,
        names={u.id: u.display_name or u.username for u in users if u.id is not None},
        assignees=assignable_users(session, unit_ids=[submission.unit_id])
        if may_assign(user) and not held_by_bureau_only(submission)
        else [],
    )


def get_attachment(
    session: Session, *, user: AdminUser, submission_id: int, attachment_id: int
) -> Attachment:
    """A file of an item this admin may see."""
    item = get_item(session, user=user, submission_id=submission_id)
    found = session.get(Attachment, attachment_id)
    if found is None or found.submission_id != submission_id or is_masked_for(item, user=user):
        raise NotFound("没有找到这个附件。")
    return found
