"""China's working days (工作日): public holidays and make-up working days (调休).

The official calendar comes from the chinese-calendar library, which knows the years it was
released for (2004–2026 in the installed version). For a year it does not know, every Monday
to Friday counts as a working day and every Saturday and Sunday as a rest day: the State
Council publishes each year's holidays only in the November before, and issue 16 will let an
admin enter them as overrides in the database.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar  # type: ignore[import-untyped]  # ships no type information

# The promised answer time until issue 16 adds per-unit settings.
DEFAULT_ANSWER_WORKING_DAYS = 5


@lru_cache(maxsize=8192)
def is_working_day(day: date) -> bool:
    """Whether offices work on this day (official calendar, else Monday to Friday)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


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


def overdue_cutoff(*, today: date, working_days: int = DEFAULT_ANSWER_WORKING_DAYS) -> date:
    """The first day of receipt whose promised answer day has not passed by `today`: open
    items received before it are overdue."""
    day = today
    while add_working_days(day - timedelta(days=1), working_days) >= today:
        day -= timedelta(days=1)
    return day
