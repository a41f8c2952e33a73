"""同类问题 growing fast: one alert to the bureau's duty address when a group gains many items
in a short time (e.g. 200 parents writing about one canteen price), once per window. The
bureau only: a group spans its schools, and may hold letters sent past a school (局长信箱)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from app.alerts.service import MAIL, AlertSettings, alert_message, duty_targets
from app.groups.service import fast_growing_groups
from app.groups.similarity import shared_label
from app.models import ConcernGroup, ConcernMember, OutboxKind, Submission, Unit
from app.outbox.service import queue_mail


def queue_growth_alerts(session: Session, *, settings: AlertSettings, now: datetime) -> int:
    """Queue an alert for each group that gained settings.group_min items within the last
    settings.group_hours and was not alerted in that window; returns how many mails.

    The conditional update takes the group for this window in the transaction that queues
    its mails, so two workers at once alert it once."""
    if settings.mail_from is None:
        return 0
    since = now - timedelta(hours=settings.group_hours)
    queued = 0
    for group_id, new in fast_growing_groups(session, since=since, min_new=settings.group_min):
        taken = session.execute(
            update(ConcernGroup)
            .where(
                col(ConcernGroup.id) == group_id,
                or_(col(ConcernGroup.alerted_at).is_(None), col(ConcernGroup.alerted_at) < since),
            )
            .values(alerted_at=now)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        group = session.get(ConcernGroup, group_id)
        assert group is not None
        lead = session.get(Submission, group.lead_submission_id)
        assert lead is not None and lead.id is not None
        unit = session.get(Unit, lead.unit_id)
        assert unit is not None
        texts = session.exec(
            select(Submission.text)
            .join(ConcernMember, col(ConcernMember.submission_id) == col(Submission.id))
            .where(col(ConcernMember.group_id) == group_id)
        ).all()
        label = shared_label(list(texts))
        targets = duty_targets(session, unit=unit, default_to=settings.default_to, bureau_only=True)
        for target in targets:
            if not target.startswith(MAIL):
                continue
            to = target.removeprefix(MAIL)
            message = growth_email(
                to=to,
                unit_name=unit.name,
                group_id=group_id,
                label=label,
                new=new,
                total=len(texts),
                settings=settings,
            )
            queue_mail(
                session,
                kind=OutboxKind.alert,
                submission_id=lead.id,
                to_addr=to,
                message=message,
                send_at=now,
            )
            queued += 1
    return queued


def growth_email(
    *,
    to: str,
    unit_name: str,
    group_id: int,
    label: str,
    new: int,
    total: int,
    settings: AlertSettings,
) -> EmailMessage:
    """The alert: which concern, how many new items in the window, a link to the group; no
    text of any sender (the count and the shared words say what it is about)."""
    assert settings.mail_from is not None
    link = f"{settings.base_url.rstrip('/')}/admin?group={group_id}"
    about = label or f"同类问题 #{group_id}"
    body = (
        f"【同类问题】{unit_name}等单位的同一问题在 {settings.group_hours} 小时内新增 {new} 条意见"
        f"（共 {total} 条），请尽快统一研究处理。\n\n"
        f"问题关键词：{about}\n\n查看全部：{link}\n\n"
        f"A concern is growing fast: {new} new messages in {settings.group_hours} hours "
        f"({total} in all). Open the group at the link above.\n"
    )
    return alert_message(
        settings,
        to=to,
        subject=f"【同类问题】{about}：{settings.group_hours} 小时内新增 {new} 条",
        body=body,
    )
