"""Counting the work: received, answered, closed, open and overdue items, by check, channel,
sender role, unit and week, with on-time and satisfaction rates.

Definitions (the stats page and the reports say the same):
- received: items created in the period (local days, Asia/Shanghai), any kind and status;
- answered: the item has a reply, or its status is 已答复 or 已办结;
- closed: status 已办结; open: not answered and still waiting (新收, 已分类, 已转办);
- overdue: open, and its promised answer day (submission.due_on: the unit's working days
  after the day of receipt, on China's calendar) is before `today`;
- on-time rate: answered by the end of the promised day, among items that are
  answered or overdue (an open item still within its time is not judged yet);
- days to reply: working days from receipt to the first reply (for an item answered by a
  status change without a reply, to its last change); days to close: to its last change;
- satisfaction rate (满意率): 满意 + 基本满意 among the senders' 回访 ratings of replies made in
  the period; evaluation rate: the same among the 群众评议 ratings of the units' measures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import and_, case, func, select, text, true
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlmodel import Session, col

from app.accounts.access import not_held_by_bureau
from app.core.errors import Invalid, NotFound
from app.core.time import local_midnight, today_local
from app.dialogue.service import reply_satisfaction
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
from app.models.base import local_day
from app.review.overview import data_version
from app.workdays.service import (
    DEFAULT_ANSWER_WORKING_DAYS,
    add_working_days,
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
    ratings: int = 0  # how many 回访 ratings the satisfaction rate stands on
    evaluation_rate: float | None = None  # 群众评议 of the measures
    evaluations: int = 0


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


def _unary_plus(column: Any) -> ColumnElement[Any]:
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _same(column: Any) -> ColumnElement[Any]:
    return cast(ColumnElement[Any], column)


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


def _late(today: date) -> ColumnElement[bool]:
    """The definition of overdue (超期): still waiting, unanswered, and its promised answer
    day (submission.due_on, on China's working-day calendar) before `today` — the queue's
    state=overdue. Every count uses it; `_on_time` judges answered items by the same day."""
    return and_(
        col(Submission.status).in_(OPEN_STATUSES),
        col(Submission.first_reply_at).is_(None),
        col(Submission.due_on) < today,
    )


def _on_time(received: date, answered: date, due: date | None) -> bool:
    """Answered by the end of the promised day (the other half of `_late`); an item stored
    without one (none since migration 0014) is held to the default working days."""
    return answered <= (due or add_working_days(received, DEFAULT_ANSWER_WORKING_DAYS))


_CLOSED, _REPLIED, _OPEN = Status.closed.value, Status.replied.value, frozenset(OPEN_STATUSES)
_DONE = frozenset(("closed", "answered"))


def _state(status: str, replied: bool, late: bool) -> str:
    # The order matters: a closed item with a reply is closed, a replied one is answered.
    # (Plain strings: an enum's .value per item cost a third of the page.)
    if status == _CLOSED:
        return "closed"
    if status == _REPLIED or replied:
        return "answered"
    if late:
        return "overdue"
    return "open" if status in _OPEN else "other"


def _split(status: str, n: int, replied: int, late: int) -> list[tuple[str, int]]:
    """The states of a group of n items of one status, `replied` of them with a reply and
    `late` of them overdue (late ones have no reply, so the three never overlap)."""
    parts = (
        (_state(status, True, False), replied),
        (_state(status, False, True), late),
        (_state(status, False, False), n - replied - late),
    )
    return [(st, k) for st, k in parts if k]


def _add_states(tally: _Tally, status: str, n: int, replied: int, late: int) -> None:
    for st, k in _split(status, n, replied, late):
        tally.add(st, k)


@contextmanager
def _in_index_order(session: Session) -> Iterator[None]:
    """Let PostgreSQL group the days by walking ix_submission_stats_days, as SQLite does.

    Its planner prices a hash aggregate lower (it does not see the cost of the day casts),
    yet at 200,000 items that took twice as long as the ordered index-only scan.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("SET LOCAL enable_hashagg = off"))
    try:
        yield
    finally:
        if postgresql:
            session.execute(text("RESET enable_hashagg"))


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
    units = _units(session, unit_ids)
    ids = [u.id for u in units if u.id is not None]
    # SQLite walks an index in its group order only when no other index matches the
    # filter better, so there the filter columns are hidden from the planner ("+x").
    hide = _unary_plus if session.get_bind().dialect.name == "sqlite" else _same
    # Every unit there is (a bureau's view): no filter at all, which spares a test per item.
    everyone = len(ids) == session.execute(select(func.count()).select_from(Unit)).scalar_one()
    unit: ColumnElement[bool] = true() if everyone else hide(col(Submission.unit_id)).in_(ids)
    if not bureau_items:
        unit = and_(unit, not_held_by_bureau())
    counts = (
        func.count(),
        func.count(col(Submission.first_reply_at)),
        func.coalesce(func.sum(case((_late(today), 1), else_=0)), 0),
    )

    def grouped(*keys: Any) -> Sequence[Any]:
        # In the order of a covering index (ix_submission_stats_*): one pass over the
        # index, no sort and no table rows.
        return session.execute(
            select(*keys, col(Submission.status), *counts)
            .where(
                unit,
                hide(col(Submission.created_at)) >= local_midnight(period.start),
                hide(col(Submission.created_at)) < local_midnight(period.end + timedelta(1)),
            )
            .group_by(*keys, col(Submission.status))
            .order_by(*keys, col(Submission.status))
        ).all()

    total = _Tally()
    checks: dict[str, _Tally] = {k: _Tally() for k in CHECK_KEYS}
    channels: dict[str, _Tally] = {c.value: _Tally() for c in Channel}
    roles: dict[str, _Tally] = {r.value: _Tally() for r in Role}
    per_unit: dict[int, _Tally] = {i: _Tally() for i in ids}
    cells: dict[tuple[int, str], _Tally] = {(i, k): _Tally() for i in ids for k in CHECK_KEYS}
    for unit_id, check, status, n, replied, n_late in grouped(
        col(Submission.unit_id), col(Submission.check)
    ):
        key = check_key(check)
        for tally in (total, checks[key], per_unit[unit_id], cells[(unit_id, key)]):
            _add_states(tally, status, n, replied, n_late)
    for channel, role, status, n, replied, n_late in grouped(
        col(Submission.channel), col(Submission.role)
    ):
        for tally in (channels.setdefault(channel, _Tally()), roles.setdefault(role, _Tally())):
            _add_states(tally, status, n, replied, n_late)

    # The days of receipt, first reply and last change, as a compact projection: one row
    # per combination (a few thousand), read in the order of ix_submission_stats_days.
    day_keys = (
        local_day(col(Submission.created_at)),
        col(Submission.status),
        local_day(col(Submission.first_reply_at)),
        local_day(col(Submission.updated_at)),
        col(Submission.due_on),
    )
    # Whether a group is answered or late follows from its keys (as in `_late`), so the
    # scan only counts: each aggregate more cost a quarter of this query's time.
    with _in_index_order(session):
        days = session.execute(
            select(*day_keys, func.count())
            .where(unit, day_keys[0].between(period.start, period.end))
            .group_by(*day_keys)
            .order_by(*day_keys)
        ).all()
    weeks: dict[date, _Tally] = {}
    monday = period.start - timedelta(days=period.start.weekday())
    while monday <= period.end:
        weeks[monday] = _Tally()
        monday += timedelta(days=7)
    parsed: dict[Any, date] = {}  # a few hundred distinct days among thousands of groups

    def day(value: Any) -> date:
        found = parsed.get(value)
        if found is None:
            found = parsed[value] = _as_date(value)
        return found

    rows = []
    first, last = min(period.start, today), today
    for received, status, replied, changed, due, n in days:
        due_day = None if due is None else day(due)
        late = replied is None and status in _OPEN and due_day is not None and due_day < today
        st = _state(status, replied is not None, late)
        answered = day(replied if replied is not None else changed) if st in _DONE else None
        closed = day(changed) if status == _CLOSED else None
        for known in (answered, closed):
            if known is not None:
                first, last = min(first, known), max(last, known)
        rows.append((day(received), st, answered, closed, due_day, n))
    numbers = working_day_numbers(first, last)
    on_time = judged = 0
    to_reply: dict[int, int] = {}
    to_close: dict[int, int] = {}
    for received, st, answered_on, closed_on, due_day, n in rows:
        weeks[received - timedelta(days=received.weekday())].add(st, n)
        if st == "overdue":
            judged += n
        if answered_on is not None:
            judged += n
            if _on_time(received, answered_on, due_day):
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
    evaluated = {Rating(r): int(n) for r, n in rated}
    evaluations = sum(evaluated.values())
    approving = evaluated.get(Rating.satisfied, 0) + evaluated.get(Rating.basic, 0)
    satisfied, rating_total = reply_satisfaction(
        session,
        unit_ids=ids,
        start=local_midnight(period.start),
        end=local_midnight(period.end + timedelta(days=1)),
    )

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
        ratings=rating_total,
        evaluation_rate=approving / evaluations if evaluations else None,
        evaluations=evaluations,
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
