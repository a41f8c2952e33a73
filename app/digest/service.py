"""The digest mailed to the bureau office: periods, figures, rendering, settings and the outbox.

Sending itself (SMTP, the claim/send/mark cycle) lives in app/digest/jobs.py; everything here runs
inside a session the caller commits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode, urlparse

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.campaign.evaluation import UnitResult, evaluation_results
from app.core.errors import Conflict, Invalid, NotFound
from app.core.render import mail_env
from app.core.time import TZ
from app.documents.tables import ExportRow, submissions_xlsx
from app.models import (
    CHANNEL_LABELS,
    CHECK_NAMES,
    Bureau,
    Channel,
    Digest,
    DigestKind,
    DigestSetting,
    DigestStatus,
    Rating,
    Reply,
    Role,
    Status,
    Submission,
    Unit,
    utcnow,
)
from app.units.service import default_bureau

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 10
RECENT_PER_CHECK = 3
OVERDUE_LISTED = 10
EXCERPT_CHARS = 60
DEFAULT_WEEKLY_TIME = "08:00"
UNTAGGED_LABEL = "待归类"
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
# Statuses that still wait for someone to act; replied/closed/invalid/duplicate do not.
OPEN_STATUSES = (Status.new.value, Status.classified.value, Status.forwarded.value)

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")



# --- periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A local (Asia/Shanghai) day or ISO week; start/end are aware UTC instants."""

    kind: DigestKind
    key: str
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time(), TZ).astimezone(UTC)

    @property
    def label(self) -> str:
        if self.kind == DigestKind.day:
            d = self.first_day
            return f"{d.year}年{d.month}月{d.day}日（{WEEKDAY_NAMES[d.weekday()]}）"
        year, week, _ = self.first_day.isocalendar()
        a, b = self.first_day, self.last_day
        return f"{year}年第{week}周（{a.month}月{a.day}日—{b.month}月{b.day}日）"

    @property
    def noun(self) -> str:
        return "日" if self.kind == DigestKind.day else "周"

    def previous(self) -> Period:
        step = timedelta(days=1 if self.kind == DigestKind.day else 7)
        return make_period(self.kind, self.first_day - step)


def make_period(kind: DigestKind, day: date) -> Period:
    """The day, or the ISO week (Monday to Sunday), that contains `day`."""
    if kind == DigestKind.day:
        return Period(kind, day.isoformat(), day, day)
    monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return Period(kind, f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def parse_period(*, day: str | None = None, week: str | None = None) -> Period:
    """A period from 'YYYY-MM-DD' or 'YYYY-Www'; raise Invalid with a Chinese message."""
    if (day is None) == (week is None):
        raise Invalid("请指定日期（YYYY-MM-DD）或周（YYYY-Www）之一。", field="period")
    if day is not None:
        try:
            if not _DAY_KEY.match(day):
                raise ValueError(day)
            return make_period(DigestKind.day, date.fromisoformat(day))
        except ValueError:
            message = f"日期格式不对：{day}（应为 2026-11-26 这样）。"
            raise Invalid(message, field="period") from None
    assert week is not None
    m = _WEEK_KEY.match(week)
    try:
        if m is None:
            raise ValueError(week)
        return make_period(DigestKind.week, date.fromisocalendar(int(m[1]), int(m[2]), 1))
    except ValueError:
        raise Invalid(f"周的格式不对：{week}（应为 2026-W48 这样）。", field="week") from None


def period_of(digest: Digest) -> Period:
    """The period a digest row stands for."""
    kind = DigestKind(digest.period_kind)
    if kind == DigestKind.day:
        return parse_period(day=digest.period_key)
    return parse_period(week=digest.period_key)


def latest_completed(kind: DigestKind, *, now: datetime) -> Period:
    """The last whole day or ISO week before `now` (local time)."""
    today = now.astimezone(TZ).date()
    step = timedelta(days=1 if kind == DigestKind.day else 7)
    return make_period(kind, today - step)


def _at(day: date, hhmm: str) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), TZ)


def due_periods(setting: DigestSetting, *, now: datetime) -> list[Period]:
    """The latest period of each configured kind whose sending time has come.

    Daily at HH:MM: yesterday becomes due at HH:MM today. Weekly on weekday W: the previous
    ISO week becomes due on W at the daily time (08:00 without one).
    """
    local = now.astimezone(TZ)
    today = local.date()
    periods: list[Period] = []
    if setting.daily_time:
        back = 1 if local >= _at(today, setting.daily_time) else 2
        periods.append(make_period(DigestKind.day, today - timedelta(days=back)))
    if setting.weekly_weekday is not None:
        monday = today - timedelta(days=today.weekday())
        moment = _at(
            monday + timedelta(days=setting.weekly_weekday),
            setting.daily_time or DEFAULT_WEEKLY_TIME,
        )
        back = 7 if local >= moment else 14
        periods.append(make_period(DigestKind.week, monday - timedelta(days=back)))
    return periods


def overdue_cutoff(as_of: date, workdays: int) -> date:
    """Items received before this local day have waited `workdays` full working days by the
    end of `as_of` (Monday to Friday; public holidays are not known here)."""
    day = as_of
    counted = 0
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted == workdays:
                return day
        day -= timedelta(days=1)


def workdays_between(first: date, last: date) -> int:
    """Working days after `first` up to and including `last`."""
    return sum(
        1 for n in range(1, (last - first).days + 1) if (first + timedelta(days=n)).weekday() < 5
    )


# --- content --------------------------------------------------------------------------------


CHECK_COLUMNS: tuple[int | None, ...] = (*CHECK_NAMES.keys(), None)


def check_label(check: int | None) -> str:
    return UNTAGGED_LABEL if check is None else CHECK_NAMES.get(check, str(check))


def channel_label(code: str) -> str:
    try:
        return CHANNEL_LABELS[Channel(code)]
    except ValueError:
        return code


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    link: dict[str, str] = field(default_factory=dict)  # admin queue filter for this figure


@dataclass(frozen=True)
class UnitRow:
    slug: str
    name: str
    cells: tuple[Figure, ...]  # one per CHECK_COLUMNS
    total: int


@dataclass(frozen=True)
class DigestItem:
    id: int
    unit_name: str
    unit_slug: str
    check: int | None
    channel: str
    created_at: datetime
    excerpt: str
    # Only for named senders; anonymous items carry no identity at all. Never contact details.
    name: str | None = None
    role: str | None = None
    waited_workdays: int | None = None


@dataclass(frozen=True)
class RecentGroup:
    check: int | None
    label: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class DigestContent:
    bureau_id: int
    bureau_name: str
    period: Period
    total: int
    previous_total: int
    units: tuple[UnitRow, ...]
    check_totals: tuple[Figure, ...]  # one per CHECK_COLUMNS
    channels: tuple[Figure, ...]
    roles: tuple[Figure, ...]
    recent: tuple[RecentGroup, ...]
    overdue_workdays: int
    overdue_before: date  # received before this local day and still unanswered
    overdue_count: int
    overdue: tuple[DigestItem, ...]
    # 群众评议 in this period, per unit with measures or ratings (campaign phase 整改提高).
    evaluations: tuple[UnitResult, ...] = ()

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    @property
    def change_text(self) -> str:
        if self.change == 0:
            return "持平"
        sign = "增加" if self.change > 0 else "减少"
        text = f"{sign} {abs(self.change)} 条"
        if self.previous_total:
            text += f"（{abs(self.change) * 100 / self.previous_total:.0f}%）"
        return text

    @property
    def is_empty(self) -> bool:
        # "Nothing new": overdue items alone do not make a digest worth sending.
        return self.total == 0

    def summary(self) -> dict[str, Any]:
        """The headline figures, stored with the digest row for the admin page."""
        return {
            "total": self.total,
            "previous": self.previous_total,
            "overdue": self.overdue_count,
            "checks": {f.label: f.count for f in self.check_totals},
        }


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def _item(row: Any, units: dict[int, Unit], *, as_of: date | None = None) -> DigestItem:
    named = not row.anonymous
    unit = units[row.unit_id]
    return DigestItem(
        id=row.id,
        unit_name=unit.name,
        unit_slug=unit.slug,
        check=row.check,
        channel=channel_label(row.channel),
        created_at=row.created_at,
        excerpt=_excerpt(row.text),
        name=row.name if named else None,
        role=row.role if named else None,
        waited_workdays=None
        if as_of is None
        else workdays_between(row.created_at.astimezone(TZ).date(), as_of),
    )


def _item_columns() -> tuple[Any, ...]:
    return (
        col(Submission.id),
        col(Submission.unit_id),
        col(Submission.check),
        col(Submission.channel),
        col(Submission.created_at),
        col(Submission.text),
        col(Submission.anonymous),
        col(Submission.name),
        col(Submission.role),
    )


def build_digest(
    session: Session, *, bureau_id: int, period: Period, overdue_workdays: int = 5
) -> DigestContent:
    """All figures of one bureau's digest, aggregated in SQL."""
    bureau = session.get(Bureau, bureau_id)
    if bureau is None:
        raise NotFound("没有找到这个教育局。")
    units = session.exec(
        select(Unit).where(Unit.bureau_id == bureau_id).order_by(col(Unit.id))
    ).all()
    by_id = {unit.id: unit for unit in units if unit.id is not None}
    # Why "+ 0" and "|| ''" below: SQLite without ANALYZE statistics would otherwise walk the
    # unit_id, check or status index, each matching most of the table, instead of the narrow
    # created_at range (4x slower at 200,000 rows). PostgreSQL plans these the same either way.
    in_bureau = (col(Submission.unit_id) + 0).in_(list(by_id))
    in_period = and_(
        col(Submission.created_at) >= period.start, col(Submission.created_at) < period.end
    )
    span = {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}

    # One scan over the period: every figure below is a sum over these few grouped rows.
    grouped = session.execute(
        sa_select(
            col(Submission.unit_id),
            col(Submission.check),
            col(Submission.channel),
            col(Submission.role),
            func.count(),
        )
        .where(in_bureau, in_period)
        .group_by(
            col(Submission.unit_id),
            col(Submission.check),
            col(Submission.channel),
            col(Submission.role),
        )
    ).all()
    by_unit_check: dict[tuple[int, int | None], int] = {}
    by_channel: dict[str, int] = {}
    by_role: dict[str, int] = {}
    for unit_id, check, channel, role, count in grouped:
        by_unit_check[(unit_id, check)] = by_unit_check.get((unit_id, check), 0) + count
        by_channel[channel] = by_channel.get(channel, 0) + count
        by_role[role] = by_role.get(role, 0) + count
    total = sum(by_channel.values())

    previous = period.previous()
    previous_total = session.execute(
        select(func.count())
        .select_from(Submission)
        .where(
            in_bureau,
            col(Submission.created_at) >= previous.start,
            col(Submission.created_at) < previous.end,
        )
    ).scalar_one()

    def check_link(check: int | None, **extra: str) -> dict[str, str]:
        # The admin queue has no filter for "untagged"; link those to the unfiltered list.
        return {**extra, **({} if check is None else {"check": str(check)}), **span}

    unit_rows = []
    for unit in units:
        assert unit.id is not None
        cells = tuple(
            Figure(
                check_label(c), by_unit_check.get((unit.id, c), 0), check_link(c, unit=unit.slug)
            )
            for c in CHECK_COLUMNS
        )
        unit_rows.append(UnitRow(unit.slug, unit.name, cells, sum(f.count for f in cells)))
    check_totals = tuple(
        Figure(
            check_label(c), sum(n for (_u, k), n in by_unit_check.items() if k == c), check_link(c)
        )
        for c in CHECK_COLUMNS
    )
    channels = [
        Figure(CHANNEL_LABELS[c], by_channel.get(c.value, 0), {"channel": c.value, **span})
        for c in Channel
    ]
    known_channels = {c.value for c in Channel}
    channels += [
        Figure(c, n, span) for c, n in sorted(by_channel.items()) if c not in known_channels
    ]
    known_roles = {r.value for r in Role}
    roles = [Figure(r.value, by_role.get(r.value, 0), span) for r in Role]
    roles += [Figure(r, n, span) for r, n in sorted(by_role.items()) if r not in known_roles]

    recent = []
    for c in CHECK_COLUMNS:
        if not any(k == c for (_u, k) in by_unit_check):
            continue
        rows = session.execute(
            sa_select(*_item_columns())
            .where(
                in_bureau,
                in_period,
                func.coalesce(col(Submission.check), -1) == (-1 if c is None else c),
            )
            .order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
            .limit(RECENT_PER_CHECK)
        ).all()
        recent.append(RecentGroup(c, check_label(c), tuple(_item(r, by_id) for r in rows)))

    as_of = period.last_day
    before = overdue_cutoff(as_of, overdue_workdays)
    overdue_where = (
        in_bureau,
        col(Submission.status).concat("").in_(OPEN_STATUSES),
        col(Submission.created_at) < datetime.combine(before, time(), TZ).astimezone(UTC),
        ~exists().where(col(Reply.submission_id) == col(Submission.id)),
    )
    overdue_count = session.execute(
        select(func.count()).select_from(Submission).where(*overdue_where)
    ).scalar_one()
    overdue_rows = session.execute(
        sa_select(*_item_columns())
        .where(*overdue_where)
        .order_by(col(Submission.created_at), col(Submission.id))
        .limit(OVERDUE_LISTED)
    ).all()

    return DigestContent(
        bureau_id=bureau_id,
        bureau_name=bureau.name,
        period=period,
        total=total,
        previous_total=previous_total,
        units=tuple(unit_rows),
        check_totals=check_totals,
        channels=tuple(channels),
        roles=tuple(roles),
        recent=tuple(recent),
        overdue_workdays=overdue_workdays,
        overdue_before=before,
        overdue_count=overdue_count,
        overdue=tuple(_item(r, by_id, as_of=as_of) for r in overdue_rows),
        evaluations=tuple(
            r
            for r in evaluation_results(
                session, unit_ids=list(by_id), period=(period.start, period.end)
            )
            if r.measures or r.total
        ),
    )


def admin_link(base_url: str, params: dict[str, str]) -> str:
    """A link to the admin queue filtered as `params` (unit, check, status, channel, from, to)."""
    query = urlencode(params)
    return f"{base_url.rstrip('/')}/admin" + (f"?{query}" if query else "")


def render_digest(content: DigestContent, *, base_url: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a digest, in Chinese."""
    subject = f"【意见摘要】{content.bureau_name} {content.period.label}：新收 {content.total} 条"
    overdue_to = (content.overdue_before - timedelta(days=1)).isoformat()
    ctx = {
        "c": content,
        "RATING": Rating,
        "subject": subject,
        "link": lambda params: admin_link(base_url, params),
        "overdue_link": admin_link(base_url, {"to": overdue_to}),
        "queue_link": admin_link(base_url, {}),
        "local_time": lambda value: value.astimezone(TZ).strftime("%m-%d %H:%M"),
    }
    text = mail_env.get_template("digest/email.txt").render(ctx)
    html = mail_env.get_template("digest/email.html").render(ctx)
    return subject, text, html


def digest_xlsx(session: Session, *, content: DigestContent) -> bytes:
    """The period's items as a workbook (Chinese headers); no contact details."""
    rows = session.execute(
        sa_select(
            *_item_columns(),
            col(Submission.status),
            col(Submission.check_score),
            col(Unit.name).label("unit_name"),
        )
        .join(Unit, col(Unit.id) == col(Submission.unit_id))
        .where(
            col(Unit.bureau_id) == content.bureau_id,
            col(Submission.created_at) >= content.period.start,
            col(Submission.created_at) < content.period.end,
        )
        .order_by(col(Submission.id))
    ).all()
    export = [
        ExportRow(
            id=r.id,
            unit=r.unit_name,
            channel=r.channel,
            role=r.role,
            anonymous=r.anonymous,
            text=r.text,
            check=r.check,
            check_score=r.check_score,
            status=r.status,
            created_at=r.created_at,
            name=None if r.anonymous else r.name,
        )
        for r in rows
    ]
    return submissions_xlsx(
        export,
        title=f"{content.bureau_name}意见摘要",
        summary={"时段": content.period.label},
    )


def xlsx_filename(period: Period) -> str:
    return f"意见摘要-{period.key}.xlsx"


# --- settings -------------------------------------------------------------------------------


def parse_recipients(text: str) -> list[str]:
    """Addresses from a comma/semicolon/space separated list; raise Invalid on a bad one."""
    found = [part for part in re.split(r"[,;，；\s]+", text.strip()) if part]
    for address in found:
        if not _EMAIL.match(address):
            raise Invalid(f"邮箱地址格式不对：{address}", field="recipients")
    return found


def get_setting(session: Session, *, bureau_id: int) -> DigestSetting | None:
    """A bureau's digest settings, if any were saved."""
    return session.exec(select(DigestSetting).where(DigestSetting.bureau_id == bureau_id)).first()


def save_setting(
    session: Session,
    *,
    bureau_id: int,
    recipients: str | None = None,
    daily_time: str | None = None,
    weekly_weekday: int | None = None,
    send_when_empty: bool | None = None,
    overdue_workdays: int | None = None,
    enabled: bool | None = None,
    clear_daily: bool = False,
    clear_weekly: bool = False,
) -> DigestSetting:
    """Create or update a bureau's digest settings; only the given values change."""
    setting = get_setting(session, bureau_id=bureau_id)
    if setting is None:
        if session.get(Bureau, bureau_id) is None:
            raise NotFound("没有找到这个教育局。")
        setting = DigestSetting(bureau_id=bureau_id)
    if recipients is not None:
        setting.recipients = ", ".join(parse_recipients(recipients))
    if clear_daily:
        setting.daily_time = None
    elif daily_time is not None:
        if not _HHMM.match(daily_time.strip()):
            raise Invalid("每日发送时间应为 HH:MM，例如 08:00。", field="daily_time")
        setting.daily_time = daily_time.strip()
    if clear_weekly:
        setting.weekly_weekday = None
    elif weekly_weekday is not None:
        if not 0 <= weekly_weekday <= 6:
            raise Invalid("每周发送日应为周一到周日之一。", field="weekly_weekday")
        setting.weekly_weekday = weekly_weekday
    if send_when_empty is not None:
        setting.send_when_empty = send_when_empty
    if overdue_workdays is not None:
        if not 1 <= overdue_workdays <= 60:
            raise Invalid("超期天数应在 1 到 60 个工作日之间。", field="overdue_workdays")
        setting.overdue_workdays = overdue_workdays
    if enabled is not None:
        setting.enabled = enabled
    setting.updated_at = utcnow()
    session.add(setting)
    session.flush()
    return setting


def ensure_default_setting(session: Session, *, recipients: str | None) -> DigestSetting | None:
    """Seed the default bureau's settings from YIJIAN_DIGEST_TO (daily at 08:00), once.

    Settings saved later (CLI or admin page) win over the environment.
    """
    if not recipients:
        return None
    try:
        bureau = default_bureau(session)
    except NotFound:
        return None
    assert bureau.id is not None
    existing = get_setting(session, bureau_id=bureau.id)
    if existing is not None:
        return existing
    return save_setting(session, bureau_id=bureau.id, recipients=recipients, daily_time="08:00")


# --- outbox ---------------------------------------------------------------------------------


def mail_domain(*, mail_from: str | None, base_url: str) -> str:
    """The domain for our Message-IDs: the sender's, else the site's host."""
    if mail_from and "@" in mail_from:
        return mail_from.rsplit("@", 1)[1].strip(" >")
    return urlparse(base_url).hostname or "localhost"


def digest_message_id(*, bureau_id: int, period: Period, domain: str) -> str:
    """Stable per bureau and period, so a resend after a crash is recognisably the same mail."""
    return f"<digest-{bureau_id}-{period.kind.value}-{period.key}@{domain}>"


def enqueue_digest(
    session: Session, *, bureau_id: int, period: Period, domain: str, now: datetime
) -> Digest:
    """The outbox row for this bureau and period, created once (unique constraint)."""
    query = select(Digest).where(
        Digest.bureau_id == bureau_id,
        Digest.period_kind == period.kind.value,
        Digest.period_key == period.key,
    )
    existing = session.exec(query).first()
    if existing is not None:
        return existing
    row = Digest(
        bureau_id=bureau_id,
        period_kind=period.kind,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        status=DigestStatus.pending,
        next_attempt_at=now,
        message_id=digest_message_id(bureau_id=bureau_id, period=period, domain=domain),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another worker created it between our check and insert: theirs is the row.
        found = session.exec(query).first()
        assert found is not None
        return found
    return row


def enqueue_due_digests(session: Session, *, now: datetime, domain: str) -> list[Digest]:
    """Create the outbox rows of every enabled bureau whose periods are due."""
    settings = session.exec(select(DigestSetting).where(col(DigestSetting.enabled).is_(True))).all()
    rows = []
    for setting in settings:
        if not setting.recipients.strip():
            continue
        for period in due_periods(setting, now=now):
            rows.append(
                enqueue_digest(
                    session, bureau_id=setting.bureau_id, period=period, domain=domain, now=now
                )
            )
    return rows


def _claimable(now: datetime) -> Any:
    return or_(
        and_(
            col(Digest.status).in_([DigestStatus.pending.value, DigestStatus.failed.value]),
            col(Digest.next_attempt_at).is_not(None),
            col(Digest.next_attempt_at) <= now,
        ),
        # A worker that crashed mid-send leaves a lease; once it runs out, send again.
        and_(col(Digest.status) == DigestStatus.sending.value, col(Digest.claimed_until) < now),
    )


def _take(session: Session, row: Digest, *, now: datetime, lease: timedelta) -> Digest:
    row.status = DigestStatus.sending
    row.claimed_until = now + lease
    row.next_attempt_at = None
    row.attempts += 1
    session.add(row)
    session.flush()
    return row


def claim_next_digest(
    session: Session, *, now: datetime, lease: timedelta = LEASE
) -> Digest | None:
    """Mark the oldest sendable digest 'sending' under a lease, or None.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets concurrent workers pass each other's rows.
    SQLite ignores FOR UPDATE; there the session must run on an immediate engine
    (BEGIN IMMEDIATE), which serialises claimers on the database write lock.
    """
    row = session.exec(
        select(Digest)
        .where(_claimable(now))
        .order_by(col(Digest.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    return _take(session, row, now=now, lease=lease)


def claim_digest_now(
    session: Session, *, digest_id: int, now: datetime, lease: timedelta = LEASE
) -> Digest:
    """Claim one digest for sending now, whatever its schedule; refuse a sent or busy one."""
    row = session.exec(select(Digest).where(Digest.id == digest_id).with_for_update()).first()
    if row is None:
        raise NotFound("没有找到这期摘要。")
    if row.status == DigestStatus.sent:
        sent = row.sent_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if row.sent_at else ""
        raise Conflict(f"这期摘要已于 {sent} 发送，不再重复发送。")
    if row.status == DigestStatus.sending and row.claimed_until and row.claimed_until >= now:
        raise Conflict("这期摘要正在发送，请稍后刷新查看结果。")
    return _take(session, row, now=now, lease=lease)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failed attempt: 1, 2, 4 ... minutes, at most two hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=2))


def _finish(session: Session, digest_id: int, **values: Any) -> None:
    session.execute(update(Digest).where(col(Digest.id) == digest_id).values(**values))


def mark_sent(session: Session, *, digest_id: int, now: datetime, totals: dict[str, Any]) -> None:
    """Record a delivered digest."""
    _finish(
        session,
        digest_id,
        status=DigestStatus.sent.value,
        sent_at=now,
        claimed_until=None,
        next_attempt_at=None,
        last_error=None,
        totals=json.dumps(totals, ensure_ascii=False),
    )


def mark_skipped(session: Session, *, digest_id: int, totals: dict[str, Any]) -> None:
    """Record a period with nothing to report (send_when_empty off)."""
    _finish(
        session,
        digest_id,
        status=DigestStatus.skipped.value,
        claimed_until=None,
        next_attempt_at=None,
        totals=json.dumps(totals, ensure_ascii=False),
    )


def mark_failed(
    session: Session, *, digest_id: int, now: datetime, error: str, temporary: bool
) -> Digest:
    """Record a failed attempt; schedule a retry unless it is permanent or attempts ran out."""
    row = session.get(Digest, digest_id)
    if row is None:
        raise NotFound("没有找到这期摘要。")
    retry = temporary and row.attempts < MAX_ATTEMPTS
    row.status = DigestStatus.failed
    row.claimed_until = None
    row.last_error = error[:1000]
    row.next_attempt_at = now + retry_delay(row.attempts) if retry else None
    session.add(row)
    session.flush()
    return row


def list_digests(session: Session, *, bureau_id: int, limit: int = 60) -> list[Digest]:
    """A bureau's digests, newest period first."""
    return list(
        session.exec(
            select(Digest)
            .where(Digest.bureau_id == bureau_id)
            .order_by(col(Digest.period_start).desc(), col(Digest.period_kind))
            .limit(limit)
        ).all()
    )
