"""Working days on China's official calendar: holidays, make-up Saturdays, unknown years."""

from __future__ import annotations

from datetime import date

import pytest

from app.workdays.service import add_working_days, is_working_day, working_days_between

# 2026 Spring Festival: 15–23 February off; Saturdays 14 and 28 February are worked (调休).
BEFORE_HOLIDAY = date(2026, 2, 13)  # Friday
MAKEUP_SATURDAY = date(2026, 2, 14)
BACK_TO_WORK = date(2026, 2, 24)  # Tuesday: Monday the 23rd is still a holiday


def test_the_make_up_saturday_is_a_working_day_and_the_holiday_weekdays_are_not() -> None:
    assert is_working_day(MAKEUP_SATURDAY)
    assert is_working_day(date(2026, 2, 28))
    assert not any(is_working_day(date(2026, 2, d)) for d in (16, 17, 18, 19, 20, 23))


def test_adding_across_the_spring_festival() -> None:
    assert add_working_days(BEFORE_HOLIDAY, 1) == MAKEUP_SATURDAY
    assert add_working_days(BEFORE_HOLIDAY, 2) == BACK_TO_WORK
    # Five working days from the make-up Saturday: 24, 25, 26, 27 and Saturday 28 February.
    assert add_working_days(MAKEUP_SATURDAY, 5) == date(2026, 2, 28)
    assert add_working_days(BACK_TO_WORK, -2) == BEFORE_HOLIDAY
    assert add_working_days(BEFORE_HOLIDAY, 0) == BEFORE_HOLIDAY


def test_counting_across_the_spring_festival() -> None:
    assert working_days_between(BEFORE_HOLIDAY, BACK_TO_WORK) == 2
    assert working_days_between(BACK_TO_WORK, BEFORE_HOLIDAY) == -2
    assert working_days_between(date(2026, 2, 15), date(2026, 2, 23)) == 0
    # A plain Monday-to-Friday count would say 7.
    assert working_days_between(date(2026, 2, 12), date(2026, 2, 24)) == 3


def test_new_year_2026_crosses_the_year_boundary_on_the_official_calendar() -> None:
    # 1–3 January 2026 are off; Sunday 4 January is worked.
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert working_days_between(date(2025, 12, 30), date(2026, 1, 5)) == 3


def test_a_year_the_calendar_does_not_know_falls_back_to_monday_to_friday() -> None:
    # 2027 is unknown to the installed calendar: Friday 1 January counts, the weekend does not.
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert add_working_days(date(2026, 12, 31), 2) == date(2027, 1, 4)
    assert working_days_between(date(2026, 12, 31), date(2027, 1, 10)) == 6


@pytest.mark.parametrize("n", [0, 1, 5, 17, -3, -11])
def test_adding_and_counting_agree(n: int) -> None:
    start = date(2026, 9, 24)  # the day before Mid-Autumn, a week before National Day
    assert is_working_day(start)
    assert working_days_between(start, add_working_days(start, n)) == n


def test_mid_autumn_and_national_day_2026_with_their_make_up_days() -> None:
    # 25–27 September (中秋) and 1–7 October (国庆) off; Sunday 20 September and
    # Saturday 10 October worked.
    assert is_working_day(date(2026, 9, 20)) and is_working_day(date(2026, 10, 10))
    assert add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)
    assert add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)
    # Received Wednesday 30 September: five working days are 8, 9, 10 (Sat), 12, 13 October.
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0
