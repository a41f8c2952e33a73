"""Counting the work: received, answered, closed, open and overdue items, by check, channel,
sender role, unit and week, with on-time and satisfaction rates.

Definitions (the stats page and the reports say the same):
- received: items created in the period (local days, Asia/Shanghai), any kind and status;
- answered: the item has a reply, or its status is 已答复 or 已办结;
- closed: status 已办结; open: not answered and still waiting (新收, 已分类, 已转办);
- overdue: open, and the promised answer time (DEFAULT_ANSWER_WORKING_DAYS working days after
  the day of receipt) has passed by `today`;
- on-time rate: answered by the end of the promised working day, among items that are
  answered or overdue (an open item still within its time is not judged yet);
- days to reply: working days from receipt to the first reply (for an item answered by a
  status change without a reply, to its last change); days to close: to its last change;
- satisfaction rate: 满意 + 基本满意 among the 群众评议 ratings of the units' measures made in
  the period, the only rating that exists (items themselves are not rated).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, literal, or_, outerjoin, select, text, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from app.accounts.access import not_held_by_bureau
from app.core.errors import Invalid, NotFound
from app.core.time import local_midnight, today_local
from app.models import (
    CHANNEL_LABELS,
    CHECK_NAMES,
    OPEN_STATUSES,
    PHASE_LABELS,
    UNTAGGED_LABEL,
    Campaign,
    CampaignPhase,
    Channel,
    Evaluation,
    Measure,
    PhaseKind,
    Rating,
    Reply,
    Role,
    Status,
    Submission,
    Unit,
)
from app.review.overview import data_version
from app.workdays.service import (
    DEFAULT_ANSWER_WORKING_DAYS,
    add_working_days,
    overdue_cutoff,
    working_day_numbers,
)

UNTAGGED_KEY = "none"
# The keys of by_check, in order: the five checks, 未归类 (0), then 待归类 (not tagged yet).
CHECK_KEYS: tuple[str, ...] = (*(str(c) for c in (1, 2, 3, 4, 5, 0)), UNTAGGED_KEY)
_CHANNEL_VALUES = frozenset(c.value for c in Channel)
_STATES = ("closed", "answered", "overdue", "open", "other")


@dataclass(frozen=True)
class Period:
    """Inclusive local days (Asia/Shanghai)."""

    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    received: int
    answered: int
    closed: int
    open: int
    overdue: int


@dataclass(frozen=True)
class Summary:
    totals: Row
    on_time_rate: float | None
    median_days_to_reply: float | None
    median_days_to_close: float | None
    satisfaction_rate: float | None
    by_check: list[Row]
    by_channel: list[Row]
    by_role: list[Row]
    by_unit: list[Row]
    weekly: list[Row]
    # Unit key -> check key -> that cell (the bureau's heat map); every unit and check present.
    by_unit_check: dict[str, dict[str, Row]] = field(default_factory=dict)
    period: Period | None = None
    today: date | None = None
    # Open items received before this local day are overdue.
    overdue_before: date | None = None
    ratings: int = 0  # how many 群众评议 ratings the satisfaction rate stands on


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STATES, 0))

    def add(self, state: str, n: int) -> None:
        self.counts[state] += n

    def row(self, key: str, label: str) -> Row:
        c = self.counts
        return Row(
            key=key,
            label=label,
            received=sum(c.values()),
            answered=c["closed"] + c["answered"],
            closed=c["closed"],
            open=c["open"] + c["overdue"],
            overdue=c["overdue"],
        )


def format_rate(value: float | None) -> str:
    """A rate as the pages show it: one decimal percent, or 暂无 when nothing was counted."""
    return "暂无" if value is None else f"{value * 100:.1f}%"


def check_key(check: int | None) -> str:
    """The by_check key of a submission's check (None: not tagged yet)."""
    return UNTAGGED_KEY if check is None else str(check)


def check_label(key: str) -> str:
    """The Chinese name of a by_check key."""
    return UNTAGGED_LABEL if key == UNTAGGED_KEY else CHECK_NAMES[int(key)]


def _local_day(column: Any, dialect: str) -> ColumnElement[Any]:
    # Stored naive UTC; China has kept UTC+8 without daylight saving since 1991.
    if dialect == "sqlite":
        return func.date(column, "+8 hours")
    return cast(column + text("interval '8 hours'"), Date)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _weighted_median(pairs: Iterable[tuple[int, int]]) -> float | None:
    values = sorted(pairs)
    total = sum(n for _v, n in values)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value, n in values:
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return (found[0] + found[1]) / 2


def _units(session: Session, unit_ids: Sequence[int]) -> list[Unit]:
    return list(
        session.scalars(
            select(Unit).where(col(Unit.id).in_(list(unit_ids))).order_by(col(Unit.name))
        )
    )


def summarize(
    session: Session,
    *,
    unit_ids: Sequence[int],
    period: Period,
    today: date | None = None,
    bureau_items: bool = True,
) -> Summary:
    """Every figure of the stats page for these units and local days, aggregated in SQL
    (without bureau_items: not the bureau's own items, as a unit role sees them)."""
    today = today or today_local()
    dialect = session.get_bind().dialect.name
    units = _units(session, unit_ids)
    ids = [u.id for u in units if u.id is not None]
    overdue_before = overdue_cutoff(today=today)
    # Each item's first reply, joined once: as a correlated subquery per row it cost
    # PostgreSQL's planner a JIT compile of over a second at 200,000 items.
    replies = (
        select(
            col(Reply.submission_id).label("submission_id"),
            func.min(col(Reply.created_at)).label("first"),
        )
        .group_by(col(Reply.submission_id))
        .subquery()
    )
    first_reply = replies.c.first
    status = col(Submission.status)
    state = case(
        (status == Status.closed.value, literal("closed")),
        (or_(status == Status.replied.value, first_reply.is_not(None)), literal("answered")),
        (
            and_(
                status.in_(OPEN_STATUSES),
                col(Submission.created_at) < local_midnight(overdue_before),
            ),
            literal("overdue"),
        ),
        (status.in_(OPEN_STATUSES), literal("open")),
        else_=literal("other"),
    ).label("state")
    # "+ 0" on SQLite: it would otherwise walk the unit_id index, which matches most of the
    # table, instead of the narrow created_at range (as in digest.content). Not on PostgreSQL,
    # whose row estimate for "+ 0" is a guess five times too low (a hash join spilling to disk).
    unit = col(Submission.unit_id) + 0 if dialect == "sqlite" else col(Submission.unit_id)
    where = (
        unit.in_(ids),
        col(Submission.created_at) >= local_midnight(period.start),
        col(Submission.created_at) < local_midnight(period.end + timedelta(days=1)),
        true()
        if bureau_items
        else not_held_by_bureau(),
    )

    items = outerjoin(Submission, replies, replies.c.submission_id == col(Submission.id))

    # One scan for the dimensions ...
    grouped = session.execute(
        select(
            col(Submission.unit_id),
            col(Submission.check),
            col(Submission.channel),
            col(Submission.role),
            state,
            func.count(),
        )
        .select_from(items)
        .where(*where)
        .group_by(
            col(Submission.unit_id),
            col(Submission.check),
            col(Submission.channel),
            col(Submission.role),
            state,
        )
    ).all()
    total = _Tally()
    checks: dict[str, _Tally] = {k: _Tally() for k in CHECK_KEYS}
    channels: dict[str, _Tally] = {c.value: _Tally() for c in Channel}
    roles: dict[str, _Tally] = {r.value: _Tally() for r in Role}
    per_unit: dict[int, _Tally] = {i: _Tally() for i in ids}
    cells: dict[tuple[int, str], _Tally] = {(i, k): _Tally() for i in ids for k in CHECK_KEYS}
    for unit_id, check, channel, role, st, n in grouped:
        key = check_key(check)
        for tally in (
            total,
            checks[key],
            channels.setdefault(channel, _Tally()),
            roles.setdefault(role, _Tally()),
            per_unit[unit_id],
            cells[(unit_id, key)],
        ):
            tally.add(st, n)

    # ... and one for the days: receipt, first answer and close.
    received_day = _local_day(col(Submission.created_at), dialect).label("received")
    answered_at = case(
        (
            status.in_((Status.replied.value, Status.closed.value)),
            func.coalesce(first_reply, col(Submission.updated_at)),
        ),
        else_=first_reply,
    )
    answered_day = _local_day(answered_at, dialect).label("answered")
    closed_day = case(
        (status == Status.closed.value, _local_day(col(Submission.updated_at), dialect)),
        else_=None,
    ).label("closed")
    days = session.execute(
        select(received_day, state, answered_day, closed_day, func.count())
        .select_from(items)
        .where(*where)
        .group_by(received_day, state, answered_day, closed_day)
    ).all()
    weeks: dict[date, _Tally] = {}
    monday = period.start - timedelta(days=period.start.weekday())
    while monday <= period.end:
        weeks[monday] = _Tally()
        monday += timedelta(days=7)
    rows = [
        (
            _as_date(received),
            st,
            None if answered is None or st not in ("closed", "answered") else _as_date(answered),
            None if closed is None else _as_date(closed),
            n,
        )
        for received, st, answered, closed, n in days
    ]
    seen = [d for r in rows for d in (r[0], r[2], r[3]) if d is not None]
    numbers = working_day_numbers(min(seen, default=today), max(seen, default=today))
    deadlines: dict[date, date] = {}
    on_time = judged = 0
    to_reply: dict[int, int] = {}
    to_close: dict[int, int] = {}
    for received, st, answered_on, closed_on, n in rows:
        weeks[received - timedelta(days=received.weekday())].add(st, n)
        if st == "overdue":
            judged += n
        if answered_on is not None:
            judged += n
            if received not in deadlines:
                deadlines[received] = add_working_days(received, DEFAULT_ANSWER_WORKING_DAYS)
            if answered_on <= deadlines[received]:
                on_time += n
            waited = max(0, numbers[answered_on] - numbers[received])
            to_reply[waited] = to_reply.get(waited, 0) + n
        if closed_on is not None:
            waited = max(0, numbers[closed_on] - numbers[received])
            to_close[waited] = to_close.get(waited, 0) + n

    rated = session.execute(
        select(col(Evaluation.rating), func.count())
        .join(Measure, col(Measure.id) == col(Evaluation.measure_id))
        .where(
            col(Measure.unit_id).in_(ids),
            col(Evaluation.created_at) >= local_midnight(period.start),
            col(Evaluation.created_at) < local_midnight(period.end + timedelta(days=1)),
        )
        .group_by(col(Evaluation.rating))
    ).all()
    ratings = {Rating(r): int(n) for r, n in rated}
    rating_total = sum(ratings.values())
    satisfied = ratings.get(Rating.satisfied, 0) + ratings.get(Rating.basic, 0)

    slugs = {u.id: u.slug for u in units}
    return Summary(
        totals=total.row("all", "合计"),
        on_time_rate=on_time / judged if judged else None,
        median_days_to_reply=_weighted_median(to_reply.items()),
        median_days_to_close=_weighted_median(to_close.items()),
        satisfaction_rate=satisfied / rating_total if rating_total else None,
        by_check=[checks[k].row(k, check_label(k)) for k in CHECK_KEYS],
        by_channel=[
            t.row(c, CHANNEL_LABELS[Channel(c)] if c in _CHANNEL_VALUES else c)
            for c, t in channels.items()
        ],
        by_role=[t.row(r, r) for r, t in roles.items()],
        by_unit=[per_unit[u.id].row(u.slug, u.name) for u in units if u.id is not None],
        weekly=[t.row(m.isoformat(), f"{max(m, period.start):%m-%d}起") for m, t in weeks.items()],
        by_unit_check={
            slugs[i]: {k: cells[(i, k)].row(k, check_label(k)) for k in CHECK_KEYS} for i in ids
        },
        period=period,
        today=today,
        overdue_before=overdue_before,
        ratings=rating_total,
    )


class StatsCache:
    """Summaries reused while nothing they count has changed (and for at most `ttl_seconds`).

    A full count reads every item of the period (seconds at 200,000 items on SQLite); the
    version is a few O(1) lookups: the newest item and audit entry (every admin change is
    audited, as for the queue's counts), reply and rating.
    """

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._entries: dict[tuple[object, ...], tuple[float, tuple[object, ...], Summary]] = {}

    def summarize(
        self,
        session: Session,
        *,
        unit_ids: Sequence[int],
        period: Period,
        today: date | None = None,
        bureau_items: bool = True,
    ) -> Summary:
        """summarize(), from the cache when nothing has changed since it was counted."""
        today = today or today_local()
        key = (tuple(sorted(unit_ids)), period, today, bureau_items)
        version = (
            *data_version(session),
            session.execute(select(func.max(col(Reply.id)))).scalar(),
            session.execute(select(func.max(col(Evaluation.id)))).scalar(),
        )
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[1] == version and now - hit[0] < self._ttl:
            return hit[2]
        fresh = summarize(
            session, unit_ids=unit_ids, period=period, today=today, bureau_items=bureau_items
        )
        with self._lock:
            if len(self._entries) > 200:
                self._entries.clear()
            self._entries[key] = (now, version, fresh)
        return fresh


@dataclass(frozen=True)
class PhaseOption:
    id: int
    label: str
    period: Period


def campaign_phases(session: Session, *, bureau_id: int) -> list[PhaseOption]:
    """The phases of the bureau's latest campaign, as periods to choose from."""
    campaign = current_campaign(session, bureau_id=bureau_id)
    if campaign is None:
        return []
    rows = session.scalars(
        select(CampaignPhase)
        .where(col(CampaignPhase.campaign_id) == campaign.id)
        .order_by(col(CampaignPhase.starts_on))
    )
    return [
        PhaseOption(p.id, PHASE_LABELS[PhaseKind(p.kind)], Period(p.starts_on, p.ends_on))
        for p in rows
        if p.id is not None
    ]


def current_campaign(session: Session, *, bureau_id: int) -> Campaign | None:
    """The bureau's latest campaign (the one intake follows), if any."""
    return session.scalars(
        select(Campaign)
        .where(col(Campaign.bureau_id) == bureau_id)
        .order_by(col(Campaign.id).desc())
        .limit(1)
    ).first()


def campaign_period(session: Session, *, bureau_id: int, today: date | None = None) -> Period:
    """The current campaign from its first to its last phase day; the last 30 days without one."""
    phases = campaign_phases(session, bureau_id=bureau_id)
    if not phases:
        end = today or today_local()
        return Period(end - timedelta(days=29), end)
    return Period(min(p.period.start for p in phases), max(p.period.end for p in phases))


def choose_period(
    session: Session,
    *,
    bureau_id: int,
    start: date | None,
    end: date | None,
    phase_id: int | None,
    today: date | None = None,
) -> Period:
    """The period an admin asked for: a campaign phase, dates, or the current campaign."""
    if phase_id is not None:
        for option in campaign_phases(session, bureau_id=bureau_id):
            if option.id == phase_id:
                return option.period
        raise NotFound("没有这个活动阶段。")
    if start is None and end is None:
        return campaign_period(session, bureau_id=bureau_id, today=today)
    default = campaign_period(session, bureau_id=bureau_id, today=today)
    period = Period(start or default.start, end or default.end)
    if period.start > period.end:
        raise Invalid("开始日期不能晚于结束日期。", field="from")
    if (period.end - period.start).days > 3660:
        raise Invalid("统计时段不能超过十年。", field="from")
    return period
