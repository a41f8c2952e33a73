"""Admins' corrections of the calendar: a year the library does not know, set by hand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.db import session_scope
from app.core.errors import Invalid
from app.core.time import parse_day
from app.models import AuditLog
from app.workdays.service import (
    add_working_days,
    is_working_day,
    knows_year,
    list_overrides,
    remove_override,
    set_override,
    sync_calendar,
    use_overrides,
    working_days_between,
)
from tests.conftest import run_cli, server_env

# A made-up 2027 Spring Festival schedule: Monday 8 to Friday 12 February off, Saturday
# 20 February worked (调休). The installed library does not know 2027.
FRIDAY_BEFORE = date(2027, 2, 5)
HOLIDAY = [date(2027, 2, d) for d in range(8, 13)]
MAKEUP_SATURDAY = date(2027, 2, 20)


def enter_2027(session: Session) -> None:
    for day in HOLIDAY:
        set_override(session, actor_id=None, day=day, working=False, note="春节")
    set_override(session, actor_id=None, day=MAKEUP_SATURDAY, working=True, note="春节调休")


def test_a_year_the_library_does_not_know_gives_the_right_dates_once_corrected(
    engine: Engine,
) -> None:
    assert not knows_year(2027) and knows_year(2026)
    # Before the correction: Monday to Friday.
    assert add_working_days(FRIDAY_BEFORE, 1) == date(2027, 2, 8)
    with session_scope(engine) as s:
        enter_2027(s)
    with Session(engine) as s:
        sync_calendar(s)
    assert add_working_days(FRIDAY_BEFORE, 1) == date(2027, 2, 15)
    # 15–19 February, then the make-up Saturday.
    assert add_working_days(FRIDAY_BEFORE, 6) == MAKEUP_SATURDAY
    assert working_days_between(FRIDAY_BEFORE, date(2027, 2, 22)) == 7
    assert not is_working_day(date(2027, 2, 21))  # the Sunday after stays a rest day


def test_another_process_follows_a_change_and_a_removal(engine: Engine) -> None:
    with session_scope(engine) as s:
        enter_2027(s)
    use_overrides({})  # a process that read the table before the change
    with Session(engine) as s:
        sync_calendar(s)
    assert not is_working_day(HOLIDAY[0])
    with session_scope(engine) as s:
        remove_override(s, actor_id=None, day=HOLIDAY[0])
    use_overrides({HOLIDAY[0]: False})  # the stale copy another process still holds
    with Session(engine) as s:
        sync_calendar(s)
    assert is_working_day(HOLIDAY[0])
    assert not is_working_day(HOLIDAY[1])


def test_an_override_wins_over_the_official_calendar_and_is_audited(engine: Engine) -> None:
    national_day = date(2026, 10, 2)
    assert not is_working_day(national_day)
    with session_scope(engine) as s:
        set_override(s, actor_id=None, day=national_day, working=True, note="值班")
        set_override(s, actor_id=None, day=national_day, working=True, note="全县统一值班")
    with Session(engine) as s:
        days = list_overrides(s, year=2026)
        actions = [a.action for a in s.exec(select(AuditLog)).all()]
    assert [(d.day, d.working, d.official, d.note) for d in days] == [
        (national_day, True, False, "全县统一值班")
    ]
    assert is_working_day(national_day)
    assert actions == ["calendar_set", "calendar_set"]


def test_bad_corrections_are_refused(engine: Engine) -> None:
    with session_scope(engine) as s, pytest.raises(Invalid, match="没有手工设置"):
        remove_override(s, actor_id=None, day=HOLIDAY[0])
    with session_scope(engine) as s, pytest.raises(Invalid, match="100"):
        set_override(s, actor_id=None, day=HOLIDAY[0], working=False, note="长" * 101)
    with pytest.raises(Invalid, match="年-月-日"):
        parse_day("2027-02-30", field="day")


def test_the_command_line_sets_lists_and_unsets(engine: Engine, database_url: str) -> None:
    env = server_env(database_url)
    done = run_cli(env, "calendar", "set", "--day", "2027-02-08", "--rest", "--note", "春节")
    assert done.returncode == 0, done.stderr
    run_cli(env, "calendar", "set", "--day", "2027-02-20", "--working", "--note", "春节调休")
    listed = run_cli(env, "calendar", "list", "--year", "2027")
    assert "未收录" in listed.stdout and "手工设置 2 天" in listed.stdout
    assert "2027-02-08\t休息\t(日历库：上班)\t春节" in listed.stdout
    assert "2027-02-20\t上班\t(日历库：休息)\t春节调休" in listed.stdout
    gone = run_cli(env, "calendar", "unset", "--day", "2027-02-08")
    assert gone.returncode == 0, gone.stderr
    again = run_cli(env, "calendar", "unset", "--day", "2027-02-08")
    assert again.returncode == 2 and "没有手工设置" in again.stderr
    bad = run_cli(env, "calendar", "set", "--day", "2027-13-01", "--rest")
    assert bad.returncode == 2 and "年-月-日" in bad.stderr
    with Session(engine) as s:
        assert [d.day for d in list_overrides(s, year=2027)] == [MAKEUP_SATURDAY]
