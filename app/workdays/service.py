"""China's working days (工作日): public holidays and make-up working days (调休).

The official calendar comes from the chinese-calendar library, which knows the years it was
released for (2004–2026 in the installed version). For a year it does not know, every Monday
to Friday counts as a working day and every Saturday and Sunday as a rest day: the State
Council publishes each year's holidays only in the November before, so a bureau admin enters
them as overrides (calendar_day, the 工作日 page, `yijian calendar set`), which win over both.

Each process keeps the overrides in memory; sync_calendar re-reads them when the table
changed, and the functions below stay pure (no database) for everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar  # type: ignore[import-untyped]  # ships no type information
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.audit.service import record_audit
from app.core.errors import Invalid
from app.models import CalendarDay, utcnow

# The promised answer time until issue 16 adds per-unit settings.
DEFAULT_ANSWER_WORKING_DAYS = 5


# The overrides this process uses, and the table state they were read at; replaced whole
# (never mutated), so a reader in another thread sees the old or the new mapping.
_overrides: Mapping[date, bool] = {}
_read_at: tuple[int, object] | None = None


@lru_cache(maxsize=8192)
def is_official_working_day(day: date) -> bool:
    """Whether offices work on this day by the library's calendar, else Monday to Friday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def knows_year(year: int) -> bool:
    """Whether the library has the State Council's schedule for this year."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    """Whether offices work on this day (an override, else the official calendar)."""
    hit = _overrides.get(day)
    return is_official_working_day(day) if hit is None else hit


def use_overrides(days: Mapping[date, bool]) -> None:
    """Use these overrides in this process (sync_calendar does it from the database)."""
    global _overrides, _read_at
    _overrides = dict(days)
    _read_at = None


def sync_calendar(session: Session) -> None:
    """Re-read the overrides when calendar_day changed since this process last read it."""
    global _overrides, _read_at
    state = session.execute(
        sa_select(func.count(), func.max(CalendarDay.updated_at)).select_from(CalendarDay)
    ).one()
    stamp = (int(state[0]), state[1])
    if stamp == _read_at:
        return
    rows = session.exec(select(CalendarDay)).all()
    _overrides = {row.day: row.working for row in rows}
    _read_at = stamp


@dataclass(frozen=True)
class DayView:
    day: date
    working: bool
    official: bool  # what the calendar says without the override
    note: str


def list_overrides(session: Session, *, year: int) -> list[DayView]:
    """A year's overrides, by day."""
    rows = session.exec(
        select(CalendarDay)
        .where(col(CalendarDay.day) >= date(year, 1, 1), col(CalendarDay.day) <= date(year, 12, 31))
        .order_by(col(CalendarDay.day))
    ).all()
    return [DayView(r.day, r.working, is_official_working_day(r.day), r.note) for r in rows]


def set_override(
    session: Session, *, actor_id: int | None, day: date, working: bool, note: str
) -> None:
    """Add or correct one day's override (audited)."""
    note = note.strip()
    if len(note) > 100:
        raise Invalid("说明不能超过 100 字。", field="note")
    if not 2000 <= day.year <= 2100:
        raise Invalid("日期应在 2000 年到 2100 年之间。", field="day")
    row = session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, working=working, note=note)
    else:
        row.working, row.note, row.updated_at = working, note, utcnow()
    session.add(row)
    record_audit(
        session,
        actor_id=actor_id,
        action="calendar_set",
        detail={"day": day.isoformat(), "working": working, "note": note},
    )
    session.flush()
    sync_calendar(session)


def remove_override(session: Session, *, actor_id: int | None, day: date) -> None:
    """Remove one day's override: the official calendar applies again (audited)."""
    row = session.get(CalendarDay, day)
    if row is None:
        raise Invalid(f"{day:%Y年%m月%d日}没有手工设置，无需删除。", field="day")
    session.delete(row)
    record_audit(
        session, actor_id=actor_id, action="calendar_unset", detail={"day": day.isoformat()}
    )
    session.flush()
    sync_calendar(session)


def add_working_days(day: date, n: int) -> date:
    """The day `n` working days after `day` (before it for negative `n`; `day` itself for 0)."""
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        day += timedelta(days=step)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(a: date, b: date) -> int:
    """Working days after `a` up to and including `b` (negative when `b` is before `a`)."""
    if b < a:
        return -working_days_between(b, a)
    return sum(1 for n in range(1, (b - a).days + 1) if is_working_day(a + timedelta(days=n)))


def working_day_numbers(first: date, last: date) -> dict[date, int]:
    """working_days_between(first, day) for every day from `first` to `last`, in one pass
    (for counting many spans: between(a, b) is numbers[b] - numbers[a])."""
    numbers = {first: 0}
    count = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day)
        numbers[day] = count
    return numbers
