"""Urgent items: flagging at intake, clearing false alarms, duty addresses, alert mails."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import cache
from itertools import chain

from sqlalchemy import ColumnElement, and_, exists, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.access import visible_units
from app.alerts import detect
from app.audit.service import record_audit
from app.core.errors import Forbidden, Invalid
from app.mail.address import is_email_address
from app.mail.compose import build_message
from app.models import (
    CHECK_NAMES,
    CLEARED_LABEL,
    OPEN_STATUSES,
    UNTAGGED_LABEL,
    URGENT_CATEGORIES,
    URGENT_LABEL,
    AdminRole,
    AdminUser,
    AlertContact,
    AlertDelivery,
    Bureau,
    OutboxKind,
    Submission,
    TaggerModel,
    Unit,
    UrgentFlag,
    utcnow,
)
from app.outbox.service import queue_mail
from app.review.service import get_item, may_act
from app.tagging.registry import CORPUS_PATH, read_examples

log = logging.getLogger(__name__)

ALERT_CHARS = 500
MAX_REASON = 500
# How often a process asks the database whether a newer learned model was trained.
MODEL_CHECK_SECONDS = 30.0
CLEARED_WEIGHT = 50
NO_TARGET = "none:"
MAIL, HOOK = "mail:", "hook:"
MAX_WEBHOOK = 490  # alert_delivery.target holds "hook:" and the address
_WEBHOOK = re.compile(r"^https?://[^\s]+$")
# 企业微信 and 钉钉 group robots take {"msgtype": "text", "text": {"content": ...}}; WeCom
# refuses content over 2048 bytes of UTF-8.
HOOK_MAX_BYTES = 2048
HOOK_LEASE = timedelta(minutes=5)
MAX_HOOK_ATTEMPTS = 8  # marks an item alerted to nobody (no duty address anywhere), once


@cache
def shipped_model() -> detect.Model:
    """The learned part trained on the shipped examples and the tagger's ordinary corpus: the
    shipped file while it matches them, else trained here (slower start, same model)."""
    if detect.SHIPPED_MODEL_PATH.exists():
        model = detect.from_bytes(detect.SHIPPED_MODEL_PATH.read_bytes())
        if model.version == shipped_version():
            return model
    log.warning("%s is stale: `yijian alerts retrain --shipped`", detect.SHIPPED_MODEL_PATH)
    return train_shipped_model()


def shipped_version() -> str:
    """The version a model trained on today's shipped examples carries."""
    return f"shipped-{detect.examples_digest(_training_examples(()))}"


def train_shipped_model() -> detect.Model:
    """Train the learned part on the shipped examples alone (no cleared false alarms)."""
    return detect.train(_training_examples(()), version=shipped_version())


def _training_examples(cleared: Sequence[str]) -> list[tuple[str, str | None]]:
    ordinary = [(text, None) for text, _check in read_examples(CORPUS_PATH)]
    # An admin's word on a false alarm outweighs one anonymous corpus line: it counts as many.
    corrections = ((t, None) for t in cleared for _ in range(CLEARED_WEIGHT))
    return list(chain(detect.read_training(), ordinary, corrections))


class _ModelCache:
    """The newest learned model, looked up in the database at most every MODEL_CHECK_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._name: str | None = None
        self._model: detect.Model | None = None
        self._next = 0.0

    def current(self) -> detect.Model:
        """The model loaded last (the shipped one until a retrained one was seen)."""
        return self._model or shipped_model()

    def refresh(self, session: Session) -> None:
        """Load a newer retrained model, if one was stored since the last look."""
        now = time.monotonic()
        if now >= self._next and self._lock.acquire(blocking=False):
            try:
                self._next = now + MODEL_CHECK_SECONDS
                newest = session.exec(
                    select(TaggerModel.file_name, TaggerModel.data)
                    .where(TaggerModel.name == detect.MODEL_NAME)
                    .order_by(col(TaggerModel.file_name).desc())
                    .limit(1)
                ).first()
                if newest is None:
                    self._name, self._model = None, None
                elif newest[0] != self._name:
                    self._name, self._model = newest[0], detect.from_bytes(newest[1])
            finally:
                self._lock.release()

    def forget(self) -> None:
        """Drop the loaded model and look again at the next refresh (tests start over)."""
        self._name, self._model, self._next = None, None, 0.0


MODELS = _ModelCache()


def scan_urgent(texts: Sequence[str]) -> list[detect.Hit | None]:
    """The urgent flag each text would raise (no database: intake runs it before its write
    transaction, with the newest model this process has loaded)."""
    model = MODELS.current()
    return [detect.scan(text, model) for text in texts]


def flag_new_items(session: Session, *, items: Sequence[tuple[int, detect.Hit]]) -> int:
    """Raise the flags scan_urgent found on freshly stored items; returns how many."""
    MODELS.refresh(session)
    # To the minute, as the submission itself (docs/threat-model.md, "Timing").
    now = _minute()
    rows = [
        {
            "submission_id": submission_id,
            "categories": json.dumps(hit.categories),
            "evidence": json.dumps(hit.evidence, ensure_ascii=False),
            "source": hit.source,
            "score": hit.score,
            "cleared": False,
            "created_at": now,
        }
        for submission_id, hit in items
    ]
    if rows:
        session.execute(insert(UrgentFlag), rows)
    return len(rows)


def _minute() -> datetime:
    return utcnow().replace(second=0, microsecond=0)


def is_urgent() -> ColumnElement[bool]:
    """The condition for a submission with an uncleared urgent flag that still waits for an
    answer (for queue queries): once answered or closed it takes its place in the order."""
    return and_(
        col(Submission.status).in_(OPEN_STATUSES),
        exists().where(
            col(UrgentFlag.submission_id) == col(Submission.id),
            col(UrgentFlag.cleared).is_(False),
        ),
    )


def waiting_urgent_ids(session: Session, *, limit: int = 1000) -> list[int]:
    """The newest items is_urgent() selects, looked up from the flags: a queue query that
    tested every item for a flag read the whole table when few or none are urgent."""
    return list(
        session.exec(
            select(UrgentFlag.submission_id)
            .join(Submission, col(Submission.id) == col(UrgentFlag.submission_id))
            .where(col(UrgentFlag.cleared).is_(False), col(Submission.status).in_(OPEN_STATUSES))
            .order_by(col(UrgentFlag.submission_id).desc())
            .limit(limit)
        ).all()
    )


def category_labels(raw: str) -> list[str]:
    """The Chinese labels of a flag's stored categories."""
    return [URGENT_CATEGORIES[k] for k in json.loads(raw) if k in URGENT_CATEGORIES]


def urgent_labels(session: Session, *, submission_ids: Sequence[int]) -> dict[int, list[str]]:
    """Submission id -> category labels, for the items among these that are urgent now."""
    if not submission_ids:
        return {}
    rows = session.exec(
        select(UrgentFlag.submission_id, UrgentFlag.categories).where(
            col(UrgentFlag.submission_id).in_(submission_ids), col(UrgentFlag.cleared).is_(False)
        )
    ).all()
    return {sid: category_labels(raw) for sid, raw in rows}


def get_flag(session: Session, *, submission_id: int) -> UrgentFlag | None:
    """The item's flag, cleared or not; None when it was never flagged."""
    return session.exec(select(UrgentFlag).where(UrgentFlag.submission_id == submission_id)).first()


def clear_flag(
    session: Session, *, submission: Submission, actor_id: int | None, reason: str
) -> UrgentFlag:
    """Clear a false alarm (紧急 → 解除) with a reason; it then trains the learned part."""
    why = reason.strip()
    if not why:
        raise Invalid("请写明解除紧急标记的原因。", field="reason")
    if len(why) > MAX_REASON:
        raise Invalid(f"原因不能超过 {MAX_REASON} 字。", field="reason")
    flag = get_flag(session, submission_id=submission.id or 0)
    if flag is None or flag.cleared:
        raise Invalid("这条意见没有紧急标记。", field="reason")
    flag.cleared, flag.cleared_reason = True, why
    flag.cleared_by, flag.cleared_at = actor_id, utcnow()
    session.add(flag)
    record_audit(
        session,
        actor_id=actor_id,
        action="urgent_cleared",
        unit_id=submission.unit_id,
        submission_id=submission.id,
        detail={"categories": json.loads(flag.categories), "reason": why},
    )
    return flag


def retrain_model(session: Session) -> str:
    """Train the learned part on the shipped examples plus every cleared false alarm and
    store it where every process finds it within MODEL_CHECK_SECONDS; returns its name."""
    cleared = session.exec(
        select(Submission.text)
        .join(UrgentFlag, col(UrgentFlag.submission_id) == col(Submission.id))
        .where(col(UrgentFlag.cleared).is_(True))
        .order_by(col(UrgentFlag.id))
    ).all()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{detect.MODEL_NAME}-{stamp}"
    model = detect.train(_training_examples(list(cleared)), version=name)
    session.add(TaggerModel(name=detect.MODEL_NAME, file_name=name, data=detect.to_bytes(model)))
    return name


def set_contact(
    session: Session,
    *,
    unit_id: int | None = None,
    bureau_id: int | None = None,
    email: str,
    webhook: str | None = None,
) -> AlertContact:
    """Set the duty address (and, unless None, the group-robot webhook) of one unit or one
    bureau; empty values remove them."""
    address = email.strip() or None
    if address is not None and not is_email_address(address):
        raise Invalid("值班邮箱格式不正确。", field="email")
    hook = None if webhook is None else (webhook.strip() or None)
    if hook is not None and (not _WEBHOOK.match(hook) or len(hook) > MAX_WEBHOOK):
        raise Invalid("机器人地址应以 https:// 或 http:// 开头。", field="webhook")
    where = (
        col(AlertContact.unit_id) == unit_id
        if unit_id is not None
        else col(AlertContact.bureau_id) == bureau_id
    )
    row = session.exec(select(AlertContact).where(where)).first()
    if row is None:
        row = AlertContact(unit_id=unit_id, bureau_id=bureau_id)
    row.email = address
    if webhook is not None:
        row.webhook = hook
    session.add(row)
    return row


@dataclass(frozen=True)
class DutyRow:
    key: str  # "bureau" or a unit's slug: the form fields are email_<key> and hook_<key>
    label: str
    email: str | None
    webhook: str | None


def duty_addresses(session: Session, *, user: AdminUser) -> list[DutyRow]:
    """The duty addresses this admin may set: the bureau's (bureau admins) and their units'."""
    contacts = session.exec(select(AlertContact)).all()
    by_unit = {c.unit_id: c for c in contacts if c.unit_id is not None}
    rows = []
    if user.role == AdminRole.bureau_admin:
        own = next((c for c in contacts if c.bureau_id == user.bureau_id), None)
        rows.append(DutyRow("bureau", "教育局", _email(own), _hook(own)))
    for unit in visible_units(session, user=user):
        c = by_unit.get(unit.id or 0)
        rows.append(DutyRow(unit.slug, unit.name, _email(c), _hook(c)))
    return rows


def _email(contact: AlertContact | None) -> str | None:
    return contact.email if contact else None


def _hook(contact: AlertContact | None) -> str | None:
    return contact.webhook if contact else None


def save_duty_addresses(session: Session, *, user: AdminUser, values: dict[str, str]) -> None:
    """Save the duty addresses from the page's form (email_<key> fields this admin may set)."""
    if user.role == AdminRole.reviewer:
        raise Forbidden("审核人不能设置值班邮箱。")
    units = {u.slug: u for u in visible_units(session, user=user)}
    for row in duty_addresses(session, user=user):
        value = values.get(f"email_{row.key}")
        if value is None:
            continue
        hook = values.get(f"hook_{row.key}")
        if row.key == "bureau":
            set_contact(session, bureau_id=user.bureau_id, email=value, webhook=hook)
        else:
            set_contact(session, unit_id=units[row.key].id, email=value, webhook=hook)
    record_audit(session, actor_id=user.id, action="alert_contacts", detail={})


def clear_item_flag(
    session: Session, *, user: AdminUser, submission_id: int, reason: str
) -> UrgentFlag:
    """Clear the flag of an item this admin may act on."""
    submission = get_item(session, user=user, submission_id=submission_id)
    if not may_act(user, submission):
        raise Forbidden("这条意见没有分配给您，您只能查看。")
    return clear_flag(session, submission=submission, actor_id=user.id, reason=reason)


def duty_targets(
    session: Session, *, unit: Unit, default_to: str | None, bureau_only: bool = False
) -> list[str]:
    """The unit's and its bureau's duty addresses and robots ("mail:…", "hook:…")."""
    contacts = session.exec(
        select(AlertContact).where(
            (col(AlertContact.unit_id) == unit.id) | (col(AlertContact.bureau_id) == unit.bureau_id)
        )
    ).all()
    bureau = next((c.email for c in contacts if c.bureau_id == unit.bureau_id), None)
    if bureau is None and _is_default_bureau(session, bureau_id=unit.bureau_id):
        bureau = default_to
    # An item held by the bureau (局长信箱) alerts the bureau only: its school must not know.
    mine = [c for c in contacts if c.unit_id == unit.id and not bureau_only]
    addresses = [c.email for c in mine] + [bureau]
    hooks = [f"hook:{c.webhook}" for c in contacts if c.webhook and (c in mine or c.bureau_id)]
    mails = [f"mail:{a.lower()}" for a in addresses if a]
    return list(dict.fromkeys(mails + hooks))


def _is_default_bureau(session: Session, *, bureau_id: int) -> bool:
    first = session.exec(select(Bureau.id).order_by(col(Bureau.id)).limit(1)).first()
    return first == bureau_id


@dataclass(frozen=True)
class AlertSettings:
    base_url: str
    mail_from: str | None
    default_to: str | None  # YIJIAN_ALERT_TO: the default (first) bureau's duty address
    # A similar-concern group that gains group_min items within group_hours is alerted.
    group_min: int = 10
    group_hours: int = 24


def alert_email(
    *,
    to: str,
    unit_name: str,
    submission: Submission,
    categories: list[str],
    settings: AlertSettings,
) -> EmailMessage:
    """The alert: unit, check, categories, the text (first 500 characters) and a link; never
    the sender's name or contact."""
    assert settings.mail_from is not None
    check = UNTAGGED_LABEL if submission.check is None else CHECK_NAMES[submission.check]
    text = submission.text
    if len(text) > ALERT_CHARS:
        text = text[:ALERT_CHARS] + "……（全文见链接 / full text at the link）"
    link = f"{settings.base_url.rstrip('/')}/admin/items/{submission.id}"
    kinds = "、".join(categories)
    body = (
        f"【紧急】{unit_name}收到一条可能涉及学生安全的意见，请立即查看处理。\n\n"
        f"单位：{unit_name}\n五查类别：{check}\n紧急类别：{kinds}\n\n内容：\n{text}\n\n"
        f"查看和处理：{link}\n\n"
        "如为误报，可在该条意见页面“解除”紧急标记并写明原因。\n\n"
        "URGENT: a message that may concern a pupil's safety. "
        f"Unit: {unit_name}. Categories: {kinds}. Open it at the link above.\n"
    )
    return alert_message(settings, to=to, subject=f"【紧急】{unit_name}：{kinds}", body=body)


def alert_message(settings: AlertSettings, *, to: str, subject: str, body: str) -> EmailMessage:
    """An alert mail from the duty sender, marked as automatic so no one's autoreply answers."""
    assert settings.mail_from is not None
    return build_message(
        from_addr=settings.mail_from,
        from_name="意见箱紧急提醒",
        to_addrs=[to],
        subject=subject,
        text=body,
        message_id_domain=settings.mail_from.rpartition("@")[2] or "localhost",
        headers={"Auto-Submitted": "auto-generated"},
    )


def queue_due_alerts(session: Session, *, settings: AlertSettings, limit: int = 50) -> int:
    """Queue an alert mail for each urgent item and duty address not alerted yet; returns
    how many. Each (item, address) is inserted under a unique key in a savepoint, so two
    workers at once queue it once; the outbox then sends and retries it.

    An item is alerted once the minute it arrived in has passed (at most a minute late): an
    alert sent seconds after an anonymous letter would date it finer than the minute every
    stored time keeps (docs/threat-model.md, "Timing")."""
    if settings.mail_from is None:
        return 0
    due = session.exec(
        select(UrgentFlag, Submission, Unit)
        .join(Submission, col(Submission.id) == col(UrgentFlag.submission_id))
        .join(Unit, col(Unit.id) == col(Submission.unit_id))
        .where(
            col(UrgentFlag.cleared).is_(False),
            col(UrgentFlag.created_at) < _minute(),
            ~exists().where(col(AlertDelivery.submission_id) == col(UrgentFlag.submission_id)),
        )
        .order_by(col(UrgentFlag.id))
        .limit(limit)
    ).all()
    queued = 0
    for flag, sub, unit in due:
        assert sub.id is not None
        held = sub.to_bureau and sub.masked_text is None
        targets = duty_targets(
            session, unit=unit, default_to=settings.default_to, bureau_only=held
        ) or [NO_TARGET]
        for target in targets:
            try:
                with session.begin_nested():
                    delivery = AlertDelivery(
                        submission_id=sub.id, target=target, created_at=_minute()
                    )
                    session.add(delivery)
                    session.flush()
                    if target == NO_TARGET:
                        continue
                    if target.startswith(HOOK):
                        delivery.status, delivery.next_attempt_at = "queued", utcnow()
                        queued += 1
                        continue
                    to = target.removeprefix(MAIL)
                    message = alert_email(
                        to=to,
                        unit_name=unit.name,
                        submission=sub,
                        categories=category_labels(flag.categories),
                        settings=settings,
                    )
                    delivery.outbox_id = queue_mail(
                        session,
                        kind=OutboxKind.alert,
                        submission_id=sub.id,
                        to_addr=to,
                        message=message,
                        send_at=utcnow(),
                    )
                    queued += 1
            except IntegrityError:
                continue  # another worker queued this one a moment ago
    return queued


def describe_flag(session: Session, *, submission_id: int) -> dict[str, object]:
    """What the item page shows of the item's flag (template alerts/item_flag.html)."""
    flag = get_flag(session, submission_id=submission_id)
    return {
        "urgent": flag,
        "urgent_labels": category_labels(flag.categories) if flag else [],
        "urgent_evidence": json.loads(flag.evidence) if flag else [],
        "URGENT_LABEL": URGENT_LABEL,
        "CLEARED_LABEL": CLEARED_LABEL,
    }


def alert_text(*, unit_name: str, submission: Submission, categories: list[str], link: str) -> str:
    """The alert as one robot text message: unit, check, categories, text, link."""
    check = UNTAGGED_LABEL if submission.check is None else CHECK_NAMES[submission.check]
    head = f"【紧急】{unit_name}：{'、'.join(categories)}\n五查类别：{check}\n"
    tail = f"\n查看处理：{link}"
    room = HOOK_MAX_BYTES - len((head + tail).encode()) - len("……".encode())
    text = submission.text[:ALERT_CHARS]
    while len(text.encode()) > room:
        text = text[: max(0, len(text) - 20)]
    cut = "……" if len(text) < len(submission.text) else ""
    return head + text + cut + tail


@dataclass(frozen=True)
class PendingHook:
    id: int
    url: str
    payload: bytes


def claim_due_hooks(
    session: Session, *, now: datetime, base_url: str, lease: timedelta = HOOK_LEASE
) -> list[PendingHook]:
    """Take robot messages whose time has come, each moved `lease` ahead (as the outbox
    claims mails: SKIP LOCKED on PostgreSQL, the claim engine on SQLite)."""
    rows = session.exec(
        select(AlertDelivery)
        .where(col(AlertDelivery.status) == "queued", col(AlertDelivery.next_attempt_at) <= now)
        .order_by(col(AlertDelivery.id))
        .limit(20)
        .with_for_update(skip_locked=True)
    ).all()
    found = []
    for row in rows:
        row.next_attempt_at = now + lease
        session.add(row)
        flag = get_flag(session, submission_id=row.submission_id)
        sub = session.get(Submission, row.submission_id)
        assert flag is not None and sub is not None and row.id is not None
        unit = session.get(Unit, sub.unit_id)
        assert unit is not None
        content = alert_text(
            unit_name=unit.name,
            submission=sub,
            categories=category_labels(flag.categories),
            link=f"{base_url.rstrip('/')}/admin/items/{sub.id}",
        )
        body = {"msgtype": "text", "text": {"content": content}}
        found.append(PendingHook(row.id, row.target.removeprefix(HOOK), json.dumps(body).encode()))
    return found


def mark_hook(session: Session, *, delivery_id: int, error: str | None) -> None:
    """Sent (error None), or failed once: tried again later, given up after a few tries."""
    row = session.get(AlertDelivery, delivery_id)
    assert row is not None
    if error is None:
        row.status, row.last_error = "sent", None
    else:
        row.attempts += 1
        row.last_error = error[:200]
        if row.attempts >= MAX_HOOK_ATTEMPTS:
            row.status = "failed"
        else:
            row.next_attempt_at = utcnow() + timedelta(minutes=2**row.attempts)
    session.add(row)
