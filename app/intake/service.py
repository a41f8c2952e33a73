"""Storing suggestions from any channel, and looking them up by receipt."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.alerts.detect import Hit
from app.alerts.service import flag_new_items, scan_urgent
from app.campaign.service import IntakeState, get_intake_state
from app.concerns.service import add_concerns, concern_rows
from app.core.errors import Conflict, Invalid, NotFound, UserError
from app.core.time import TZ, to_minute
from app.intake import receipts
from app.intake.uploads import CleanFile
from app.models import (
    STATUS_LABELS,
    Attachment,
    Channel,
    Kind,
    Reply,
    Role,
    Status,
    Submission,
    Unit,
    utcnow,
)
from app.retention.service import check_receipt_active
from app.tagging import Tagger
from app.workdays.service import add_working_days

MAX_NAME = 50
MAX_CONTACT = 100
ROLES = tuple(r.value for r in Role)
# C0 controls other than tab and newline: NUL breaks PostgreSQL text, the rest are noise.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


@dataclass(frozen=True)
class SubmissionInput:
    text: str
    role: str
    anonymous: bool
    name: str | None = None
    contact: str | None = None


@dataclass(frozen=True)
class Stored:
    id: int
    receipt: str
    replayed: bool
    text: str


def clean_text(value: str) -> str:
    """Normalise line ends and drop control characters."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def validate_submission(
    *,
    text: str | None,
    role: str | None,
    anonymous: bool,
    name: str | None,
    contact: str | None,
    max_chars: int,
) -> SubmissionInput:
    """Check a suggestion as a person typed it; raise Invalid with a Chinese message."""
    body = clean_text(text or "")
    if not body:
        raise Invalid("请填写意见或建议的内容。", field="text")
    if len(body) > max_chars:
        raise Invalid(
            f"内容不能超过 {max_chars} 字（现在 {len(body)} 字），请精简或分几次提交。",
            field="text",
        )
    who = (role or Role.other.value).strip()
    if who not in ROLES:
        raise Invalid("请选择您的身份。", field="role")
    if anonymous:
        return SubmissionInput(text=body, role=who, anonymous=True)
    real_name = clean_text(name or "") or None
    real_contact = clean_text(contact or "") or None
    if real_name is None and real_contact is None:
        raise Invalid("实名提交时请至少留下姓名或联系方式；不想留，请选择匿名。", field="name")
    if real_name and len(real_name) > MAX_NAME:
        raise Invalid(f"姓名不能超过 {MAX_NAME} 字。", field="name")
    if real_contact and len(real_contact) > MAX_CONTACT:
        raise Invalid(f"联系方式不能超过 {MAX_CONTACT} 字。", field="contact")
    return SubmissionInput(
        text=body, role=who, anonymous=False, name=real_name, contact=real_contact
    )


def validate_recipient(value: str | None) -> bool:
    """Whether the sender addressed the bureau (局长信箱) instead of the school."""
    if value in (None, "", "unit"):
        return False
    if value == "bureau":
        return True
    raise Invalid("请选择交给学校还是直接交给教体局。", field="to")


def validate_idempotency_key(value: str | None) -> str | None:
    """Accept an opaque client key of 8-100 safe characters."""
    if value is None or value == "":
        return None
    if not _KEY.match(value):
        raise Invalid("请求编号格式不正确。", field="idempotency_key")
    return value


@dataclass
class NewSubmission:
    slug: str
    channel: Channel
    data: SubmissionInput
    idempotency_key: str | None = None
    files: Sequence[CleanFile] = field(default_factory=tuple)
    kind: Kind = Kind.opinion
    created_at: datetime | None = None
    check_open: bool = True
    to_bureau: bool = False  # past the school, straight to the bureau (局长信箱)


_SUBMISSION = Submission.__table__  # type: ignore[attr-defined]
_ATTACHMENT = Attachment.__table__  # type: ignore[attr-defined]
# Per dialect: insert, skipping a row whose idempotency key is stored already.
_INSERT_NEW = {
    name: insert(_SUBMISSION)
    .on_conflict_do_nothing(index_elements=[_SUBMISSION.c.idempotency_hash])
    .returning(_SUBMISSION.c.receipt_hash, _SUBMISSION.c.id)
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


@dataclass
class _Pending:
    index: int
    new: NewSubmission
    state: IntakeState
    receipt: str
    key_hash: str | None
    id: int | None = None
    concerns: list[dict[str, object]] = field(default_factory=list)  # rows, without the id


def store_submission(
    session: Session,
    *,
    secret: str,
    new: NewSubmission,
    tagger: Tagger | None = None,
    state: IntakeState | None = None,
    today: date | None = None,
) -> Stored:
    """Insert one suggestion (any channel), tagged when a tagger is given."""
    if state is None:
        state = get_intake_state(session, slug=new.slug, today=today)
    result = store_submissions(session, secret=secret, items=[(new, state)], tagger=tagger)[0]
    if isinstance(result, UserError):
        raise result
    return result


def store_submissions(
    session: Session,
    *,
    secret: str,
    items: Sequence[tuple[NewSubmission, IntakeState]],
    tagger: Tagger | None = None,
) -> list[Stored | UserError]:
    """Insert suggestions in one go: one tagging pass, one multi-row insert.

    Each item gets its own result: a Stored, or the UserError that refused it. A repeated
    idempotency key (stored before, or earlier in the same batch) replays the first receipt;
    the insert skips a key that another process stored a moment ago (ON CONFLICT), so that
    one replays too.
    """
    batch = prepare_submissions(secret=secret, items=items, tagger=tagger)
    return write_submissions(session, secret=secret, batch=batch)


@dataclass
class PreparedBatch:
    """Suggestions ready to insert: what store_submissions does before the database."""

    results: list[Stored | UserError | None]
    fresh: list[_Pending]
    rows: list[dict[str, object]]
    # (item, the earlier item of this batch with the same key, if any)
    replays: list[tuple[_Pending, _Pending | None]]
    urgent: list[Hit | None]  # per fresh row: the urgent flag to raise, if any


def prepare_submissions(
    *, secret: str, items: Sequence[tuple[NewSubmission, IntakeState]], tagger: Tagger | None
) -> PreparedBatch:
    """Check channels, derive receipts and key hashes, tag and build the rows (no database),
    so a writer can do it while the previous batch's commit waits for the disk."""
    results: list[Stored | UserError | None] = [None] * len(items)
    pending: list[_Pending] = []
    for index, (new, state) in enumerate(items):
        if new.check_open:
            try:
                state.require_open(new.channel)
            except UserError as exc:
                results[index] = exc
                continue
        if new.idempotency_key is None:
            pending.append(_Pending(index, new, state, receipts.new_receipt(), None))
            continue
        receipt = receipts.derive_receipt(
            secret=secret,
            unit_id=state.unit_id,
            idempotency_key=new.idempotency_key,
            text=new.data.text,
        )
        key_hash = receipts.hash_idempotency_key(
            secret=secret, unit_id=state.unit_id, key=new.idempotency_key
        )
        pending.append(_Pending(index, new, state, receipt, key_hash))

    fresh: list[_Pending] = []
    first_in_batch: dict[str, _Pending] = {}
    replays: list[tuple[_Pending, _Pending | None]] = []
    # Keyed rows in key order: two processes inserting overlapping keys then take the
    # unique index's locks in one order and wait for each other instead of deadlocking.
    pending.sort(key=lambda p: insert_order(p.new, p.state.unit_id))
    for p in pending:
        if p.key_hash is not None and p.key_hash in first_in_batch:
            replays.append((p, first_in_batch[p.key_hash]))
            continue
        if p.key_hash is not None:
            first_in_batch[p.key_hash] = p
        fresh.append(p)
    rows = _rows(secret=secret, fresh=fresh, tagger=tagger)
    urgent = scan_urgent([p.new.data.text for p in fresh])
    return PreparedBatch(results, fresh, rows, replays, urgent)


def insert_order(new: NewSubmission, unit_id: int) -> tuple[bool, int, str]:
    """Where a submission goes in a batch insert: keyed ones first, by unit and key."""
    return (new.idempotency_key is None, unit_id, new.idempotency_key or "")


def write_submissions(
    session: Session, *, secret: str, batch: PreparedBatch
) -> list[Stored | UserError]:
    """Insert a prepared batch in the session's transaction; one result per item."""
    results, fresh = list(batch.results), batch.fresh
    replays = list(batch.replays)
    if fresh:
        _insert(session, fresh=fresh, rows=batch.rows)
        # In the same transaction: an urgent item is on top of the queue as soon as it exists.
        hits = zip(fresh, batch.urgent, strict=True)
        flag_new_items(session, items=[(p.id, h) for p, h in hits if p.id and h is not None])
    # A key stored before left its row uninserted (p.id None): look those up, which is
    # rarer and cheaper than looking up every key first.
    known: dict[str, tuple[int, str]] = {}
    before = [p.key_hash for p in fresh if p.id is None and p.key_hash is not None]
    if before:
        rows = session.connection().execute(
            sa_select(
                _SUBMISSION.c.idempotency_hash, _SUBMISSION.c.id, _SUBMISSION.c.receipt_hash
            ).where(_SUBMISSION.c.idempotency_hash.in_(before))
        )
        known = {key: (int(sid), rhash) for key, sid, rhash in rows}
    for p in fresh:
        if p.id is None:
            replays.append((p, None))
        else:
            results[p.index] = Stored(
                id=p.id, receipt=p.receipt, replayed=False, text=p.new.data.text
            )
    for p, first in replays:
        assert p.key_hash is not None
        if first is not None and first.id is not None:
            sid, rhash = first.id, receipts.hash_receipt(secret=secret, receipt=first.receipt)
        else:
            sid, rhash = known[p.key_hash]
        if rhash != receipts.hash_receipt(secret=secret, receipt=p.receipt):
            results[p.index] = Conflict(
                "这个请求编号已用于另一条内容，请刷新页面后重新提交。", field="idempotency_key"
            )
        else:
            results[p.index] = Stored(
                id=sid, receipt=p.receipt, replayed=True, text=p.new.data.text
            )
    return [r for r in results if r is not None]


def _rows(*, secret: str, fresh: list[_Pending], tagger: Tagger | None) -> list[dict[str, object]]:
    suggestions = tagger.suggest_many([p.new.data.text for p in fresh]) if tagger else None
    tagger_name = f"{tagger.name}:{tagger.version}"[:64] if tagger else None
    rows: list[dict[str, object]] = []
    for i, p in enumerate(fresh):
        # Minute precision for every row, named or not (docs/threat-model.md, "Timing"): a
        # finer time matched against a Wi-Fi log or a glimpse names an anonymous sender, and
        # keeping named rows finer would let their ids fence an anonymous row's time.
        now = to_minute(p.new.created_at or utcnow())
        data = p.new.data
        suggestion = suggestions[i] if suggestions is not None else None
        p.concerns = concern_rows(suggestion=suggestion) if suggestion else []
        rows.append(
            {
                "unit_id": p.state.unit_id,
                "campaign_id": p.state.campaign_id,
                "channel": p.new.channel.value,
                "kind": p.new.kind.value,
                "role": data.role,
                "anonymous": data.anonymous,
                "name": None if data.anonymous else data.name,
                "contact": None if data.anonymous else data.contact,
                "text": data.text,
                "check": suggestion.check if suggestion else None,
                "check_score": suggestion.scores[suggestion.check] if suggestion else None,
                "check_evidence": (
                    json.dumps(suggestion.evidence, ensure_ascii=False) if suggestion else None
                ),
                "tagger": tagger_name,
                "status": Status.new.value,
                "receipt_hash": receipts.hash_receipt(secret=secret, receipt=p.receipt),
                "idempotency_hash": p.key_hash,
                "created_at": now,
                "updated_at": now,
                "due_on": due_on(
                    p.state, received_on=now.astimezone(TZ).date(), to_bureau=p.new.to_bureau
                ),
                "to_bureau": p.new.to_bureau,
            }
        )
    return rows


def due_on(state: IntakeState, *, received_on: date, to_bureau: bool = False) -> date:
    """The promised answer day of what the unit (or its bureau) receives that day (China's
    date)."""
    if to_bureau:
        return add_working_days(received_on, state.bureau_answer_days)
    if state.due_on is not None and received_on == state.received_on:
        return state.due_on
    return add_working_days(received_on, state.answer_days)


def _insert(session: Session, *, fresh: list[_Pending], rows: list[dict[str, object]]) -> None:
    # One multi-row INSERT ... RETURNING (SQLite 3.35+, PostgreSQL): the ORM unit of work
    # per row would cost more than the rows themselves. Rows come back in no promised
    # order (asking SQLAlchemy for parameter order makes it insert row by row on SQLite),
    # so each id is matched through its unique receipt hash; a row whose idempotency key
    # is already stored is skipped and comes back not at all.
    conn = session.connection()
    returned = conn.execute(_INSERT_NEW[conn.dialect.name], rows)
    ids = {rhash: int(sid) for rhash, sid in returned}
    attachments: list[dict[str, object]] = []
    concerns: list[dict[str, object]] = []
    for p, row in zip(fresh, rows, strict=True):
        p.id = ids.get(str(row["receipt_hash"]))
        if p.id is None:
            continue
        concerns.extend({"submission_id": p.id, **c} for c in p.concerns)
        attachments.extend(
            {
                "submission_id": p.id,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": len(f.data),
                "sha256": f.sha256,
                "data": f.data,
                "created_at": row["created_at"],
            }
            for f in p.new.files
        )
    if attachments:
        session.execute(_ATTACHMENT.insert(), attachments)
    add_concerns(session, rows=concerns)


@dataclass(frozen=True)
class ReplyView:
    body: str
    created_at: datetime


@dataclass(frozen=True)
class ReceiptView:
    unit_name: str
    status: Status
    status_label: str
    created_at: datetime
    check: int | None
    replies: list[ReplyView]
    due_on: date | None = None  # 承诺答复日期
    to_bureau: bool = False  # sent straight to the bureau (局长信箱), past the school
    named: bool = False  # a name or contact is kept, which the sender may remove


def lookup_receipt(session: Session, *, secret: str, receipt: str) -> ReceiptView:
    """What the holder of a receipt may see: status and the replies to them."""
    digest = receipts.hash_receipt(secret=secret, receipt=receipts.parse_receipt(receipt))
    row = session.exec(
        select(Submission, Unit.name)
        .join(Unit, col(Unit.id) == Submission.unit_id)
        .where(Submission.receipt_hash == digest)
    ).first()
    if row is None:
        raise NotFound("没有找到这个回执码对应的意见，请核对后重新输入。")
    sub, unit_name = row
    check_receipt_active(session, submission=sub)
    replies = session.exec(
        select(Reply).where(Reply.submission_id == sub.id).order_by(col(Reply.created_at))
    ).all()
    return ReceiptView(
        unit_name=unit_name,
        status=Status(sub.status),
        status_label=STATUS_LABELS[Status(sub.status)],
        created_at=to_minute(sub.created_at),
        check=sub.check,
        replies=[ReplyView(r.body, r.created_at) for r in replies],
        due_on=sub.due_on,
        to_bureau=sub.to_bureau,
        named=not sub.anonymous or sub.name is not None or sub.contact is not None,
    )
