"""summarize(): every figure equals a count made item by item in the test (tests/stats/data.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.errors import Invalid
from app.models import (
    CHANNEL_LABELS,
    CHECK_NAMES,
    UNTAGGED_LABEL,
    Channel,
    Evaluation,
    Rating,
    Reply,
    ReplyRating,
    ReplyRatingRow,
    Role,
    Unit,
)
from app.stats.service import Period, Row, choose_period, summarize
from tests.factories import add_measure, insert_submissions, unit_id
from tests.stats import data
from tests.stats.data import FIRST, LAST, figures, in_period, local_day

TODAY = date(2026, 3, 16)


def _row(row: Row) -> dict[str, int]:
    return {f: getattr(row, f) for f in ("received", "answered", "closed", "open", "overdue")}


@pytest.fixture
def items(engine: Engine, demo: None) -> list[data.Item]:
    made = data.make_items()
    data.store(engine, made)
    return made


def test_every_figure_equals_an_item_by_item_count(
    engine: Engine, session: Session, items: list[data.Item]
) -> None:
    ids = [unit_id(session), unit_id(session, slug="demo2")]
    s = summarize(session, unit_ids=ids, period=Period(FIRST, LAST), today=TODAY)
    mine = in_period(items)
    assert 100 < len(mine) < len(items)  # the period cuts some items off at both ends
    assert _row(s.totals) == figures(mine, TODAY)
    assert s.on_time_rate == pytest.approx(data.on_time_rate(mine, TODAY))
    assert s.median_days_to_reply == data.median_to_reply(mine)
    assert s.median_days_to_close == data.median_to_close(mine)

    by_check = {r.label: _row(r) for r in s.by_check}
    for check in data.CHECKS:
        label = UNTAGGED_LABEL if check is None else CHECK_NAMES[check]
        assert by_check[label] == figures([i for i in mine if i.check == check], TODAY), label
    assert [r.label for r in s.by_channel] == [CHANNEL_LABELS[c] for c in Channel]
    for row, channel in zip(s.by_channel, Channel, strict=True):
        assert _row(row) == figures([i for i in mine if i.channel == channel.value], TODAY)
    for row, role in zip(s.by_role, Role, strict=True):
        assert row.label == role.value
        assert _row(row) == figures([i for i in mine if i.role == role.value], TODAY)
    by_unit = {r.key: _row(r) for r in s.by_unit}
    for slug in ("demo", "demo2"):
        assert by_unit[slug] == figures([i for i in mine if i.unit == slug], TODAY)
        for check in data.CHECKS:
            key = "none" if check is None else str(check)
            cell = s.by_unit_check[slug][key]
            expected = [i for i in mine if i.unit == slug and i.check == check]
            assert _row(cell) == figures(expected, TODAY)

    monday = FIRST - timedelta(days=FIRST.weekday())
    assert s.weekly[0].key == monday.isoformat()
    for row in s.weekly:
        start = date.fromisoformat(row.key)
        week = [i for i in mine if start <= local_day(i.at) <= start + timedelta(days=6)]
        assert _row(row) == figures(week, TODAY)
    assert sum(r.received for r in s.weekly) == len(mine)


def test_one_unit_counts_only_its_own_items(session: Session, items: list[data.Item]) -> None:
    s = summarize(session, unit_ids=[unit_id(session)], period=Period(FIRST, LAST), today=TODAY)
    mine = [i for i in in_period(items) if i.unit == "demo"]
    assert _row(s.totals) == figures(mine, TODAY)
    assert [r.key for r in s.by_unit] == ["demo"]
    assert list(s.by_unit_check) == ["demo"]


def test_overdue_counts_working_days_across_the_spring_festival(
    engine: Engine, session: Session, demo: None
) -> None:
    # Received Friday 13 February, before the holiday: its fifth working day is Friday 27
    # February on the official calendar (14th worked, 15th–23rd off), not Friday 20th.
    friday = data.Item(
        "demo",
        3,
        "web",
        "家长",
        True,
        "new",
        datetime(2026, 2, 13, 2, tzinfo=UTC),
        datetime(2026, 2, 13, 2, tzinfo=UTC),
        None,
    )
    data.store(engine, [friday])
    assert data.deadline(friday) == date(2026, 2, 27)
    ids = [unit_id(session)]
    period = Period(date(2026, 2, 1), date(2026, 2, 28))
    on_time = summarize(session, unit_ids=ids, period=period, today=date(2026, 2, 27))
    late = summarize(session, unit_ids=ids, period=period, today=date(2026, 2, 28))
    assert (on_time.totals.open, on_time.totals.overdue) == (1, 0)
    assert (late.totals.open, late.totals.overdue) == (1, 1)


def test_nothing_to_count_gives_none_not_zero(session: Session, demo: None) -> None:
    s = summarize(session, unit_ids=[unit_id(session)], period=Period(FIRST, LAST), today=TODAY)
    assert s.totals.received == 0
    assert (s.on_time_rate, s.median_days_to_reply, s.satisfaction_rate) == (None, None, None)


def test_evaluation_rate_comes_from_the_measures_ratings_of_the_period(
    engine: Engine, session: Session, demo: None
) -> None:
    uid = unit_id(session)
    measure = add_measure(session, unit_id=uid)
    inside = datetime(2026, 2, 10, 4, tzinfo=UTC)
    outside = datetime(2026, 4, 1, 4, tzinfo=UTC)
    ratings = [
        ("satisfied", inside),
        ("basic", inside),
        ("unsatisfied", inside),
        ("unsatisfied", inside),
        ("satisfied", outside),
    ]
    for rating, when in ratings:
        session.add(Evaluation(measure_id=measure, rating=Rating(rating), created_at=when))
    session.commit()
    s = summarize(session, unit_ids=[uid], period=Period(FIRST, LAST), today=TODAY)
    assert s.evaluation_rate == pytest.approx(2 / 4)
    assert s.evaluations == 4
    assert (s.satisfaction_rate, s.ratings) == (None, 0)  # no reply was rated
    other = summarize(
        session, unit_ids=[unit_id(session, slug="demo2")], period=Period(FIRST, LAST), today=TODAY
    )
    assert other.evaluation_rate is None


def test_satisfaction_comes_from_the_senders_ratings_of_replies(
    engine: Engine, session: Session, demo: None
) -> None:
    inside = datetime(2026, 2, 10, 4, tzinfo=UTC)
    outside = datetime(2026, 4, 1, 4, tzinfo=UTC)
    ratings = [
        ("satisfied", inside),
        ("basically_satisfied", inside),
        ("unsatisfied", inside),
        ("satisfied", outside),
    ]
    # Written before the session reads, whose snapshot SQLite would not let write after.
    items = insert_submissions(engine, rows=[{"at": inside} for _ in ratings])
    uid = unit_id(session)
    for item, (rating, when) in zip(items, ratings, strict=True):
        reply = Reply(submission_id=item, body="答复", created_at=when)
        session.add(reply)
        session.flush()
        assert reply.id is not None
        session.add(
            ReplyRatingRow(
                reply_id=reply.id, submission_id=item, rating=ReplyRating(rating), created_at=when
            )
        )
    session.commit()
    s = summarize(session, unit_ids=[uid], period=Period(FIRST, LAST), today=TODAY)
    assert s.satisfaction_rate == pytest.approx(2 / 3)
    assert s.ratings == 3
    other = summarize(
        session, unit_ids=[unit_id(session, slug="demo2")], period=Period(FIRST, LAST), today=TODAY
    )
    assert (other.satisfaction_rate, other.ratings) == (None, 0)


def test_choose_period_refuses_a_reversed_range(session: Session, demo: None) -> None:
    bureau_id = session.exec(select(Unit.bureau_id)).first()
    assert bureau_id is not None
    with pytest.raises(Invalid):
        choose_period(session, bureau_id=bureau_id, start=LAST, end=FIRST, phase_id=None)
    chosen = choose_period(session, bureau_id=bureau_id, start=FIRST, end=LAST, phase_id=None)
    assert chosen == Period(FIRST, LAST)
