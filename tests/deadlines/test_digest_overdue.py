"""The digest's overdue section reads the promised answer day on China's calendar: an item
due after a holiday week is not overdue during it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.digest.content import build_digest, render_digest
from app.digest.schedule import make_period
from app.models import Bureau, DigestKind
from app.workdays.service import add_working_days
from tests.factories import insert_submissions

# Received Thursday 24 September 2026, before 中秋 (25–27 September) and 国庆 (1–7 October):
# five working days are 28, 29, 30 September, 8 and 9 October.
RECEIVED = datetime(2026, 9, 24, 2, 0, tzinfo=UTC)


def digest_on(engine: Engine, day: date) -> tuple[int, list[int | None], str]:
    with Session(engine) as s:
        bureau = s.exec(select(Bureau)).one()
        content = build_digest(s, bureau_id=bureau.id or 0, period=make_period(DigestKind.day, day))
    _, text, _ = render_digest(content, base_url="https://yijian.example")
    return content.overdue_count, [i.late_workdays for i in content.overdue], text


def test_an_item_is_not_overdue_during_the_holiday_week(engine: Engine, demo: None) -> None:
    [sid] = insert_submissions(engine, rows=[{"at": RECEIVED}])
    assert add_working_days(date(2026, 9, 24), 5) == date(2026, 10, 9)
    for day in (date(2026, 10, 2), date(2026, 10, 7), date(2026, 10, 9)):
        # A Monday-to-Friday count would call it overdue from 1 October.
        assert digest_on(engine, day)[0] == 0, day
    # Saturday 10 October is a make-up working day: one working day late.
    count, late, text = digest_on(engine, date(2026, 10, 10))
    assert (count, late) == (1, [1])
    assert "超过承诺答复日期仍未答复：1 条。" in text and "超期 1 个工作日" in text
    assert "due=overdue" in text
    # Sunday 11 October is a rest day: still one.
    assert digest_on(engine, date(2026, 10, 11))[1] == [1]
    assert digest_on(engine, date(2026, 10, 12))[1] == [2]
    assert sid
