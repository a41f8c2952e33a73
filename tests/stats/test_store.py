"""The in-memory counting (app/stats/store.py, first_reply_at) against a naive count.

Random items (seeded) go in as every path leaves them; the naive count reads each item and
its replies back from the database one by one and counts in Python, so it shares nothing
with summarize() but the definitions. One store then follows every kind of write.
"""

from __future__ import annotations

import random
import statistics
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, delete, func, insert, update
from sqlmodel import Session, col, select

from app.cli import alembic_config
from app.core.db import make_engine, session_scope
from app.models import Reply, Status, Submission, SubmissionChange, Unit
from app.models.base import utcnow
from app.stats.jobs import prune
from app.stats.service import CHECK_KEYS, Period, Row, check_key, summarize
from app.stats.store import RELOAD_AFTER_SECONDS, ItemStore
from app.units.service import ensure_demo
from tests.conftest import fresh_database_url, migrate, run_cli, server_env
from tests.factories import insert_submissions
from tests.stats.data import OPEN, Item, deadline, local_day, make_items, store, working_days

TODAY = date(2026, 3, 16)
DAY = timedelta(days=1)
FIGURES = ("received", "answered", "closed", "open", "overdue")


def _naive(session: Session, unit_ids: list[int], period: Period) -> dict[str, object]:
    """Every figure, item by item, from the rows themselves (replies read per item)."""
    cells: dict[tuple[str, str], dict[str, int]] = {}
    waits_reply: list[int] = []
    waits_close: list[int] = []
    on_time = judged = 0
    for sub in session.exec(select(Submission).where(col(Submission.unit_id).in_(unit_ids))):
        if not period.start <= local_day(sub.created_at) <= period.end:
            continue
        replies = session.exec(select(Reply.created_at).where(Reply.submission_id == sub.id)).all()
        first = min(replies, default=None)
        item = Item(
            unit=str(sub.unit_id),
            check=sub.check,
            channel=sub.channel,
            role=sub.role,
            anonymous=sub.anonymous,
            status=sub.status,
            at=sub.created_at,
            updated=sub.updated_at,
            reply_at=first,
        )
        answered = item.status in ("replied", "closed") or first is not None
        is_open = item.status in OPEN and not answered
        overdue = is_open and deadline(item) < TODAY
        figures = {
            "received": 1,
            "answered": int(answered),
            "closed": int(item.status == "closed"),
            "open": int(is_open),
            "overdue": int(overdue),
        }
        for key in (
            ("all", "all"),
            ("unit", item.unit),
            ("check", check_key(item.check)),
            ("channel", item.channel),
            ("role", item.role),
            ("cell", f"{item.unit}/{check_key(item.check)}"),
        ):
            cell = cells.setdefault(key, dict.fromkeys(FIGURES, 0))
            for f, n in figures.items():
                cell[f] += n
        day = local_day(item.at)
        if answered:
            answer = local_day(first) if first is not None else local_day(item.updated)
            waits_reply.append(max(0, working_days(day, answer)))
            on_time += answer <= deadline(item)
        judged += answered or overdue
        if item.status == "closed":
            waits_close.append(max(0, working_days(day, local_day(item.updated))))
    return {
        "cells": cells,
        "on_time": on_time / judged if judged else None,
        "reply": statistics.median(waits_reply) if waits_reply else None,
        "close": statistics.median(waits_close) if waits_close else None,
    }


def _figures(row: Row) -> dict[str, int]:
    return {f: getattr(row, f) for f in FIGURES}


def _fast(
    session: Session, unit_ids: list[int], period: Period, items: ItemStore | None = None
) -> dict[str, object]:
    s = summarize(session, unit_ids=unit_ids, period=period, today=TODAY, store=items)
    slugs = {u.slug: str(u.id) for u in session.exec(select(Unit))}
    cells: dict[tuple[str, str], dict[str, int]] = {("all", "all"): _figures(s.totals)}
    for kind, rows in (("check", s.by_check), ("channel", s.by_channel), ("role", s.by_role)):
        cells |= {(kind, r.key): _figures(r) for r in rows if r.received}
    cells |= {("unit", slugs[r.key]): _figures(r) for r in s.by_unit if r.received}
    cells |= {
        ("cell", f"{slugs[u]}/{k}"): _figures(row[k])
        for u, row in s.by_unit_check.items()
        for k in CHECK_KEYS
        if row[k].received
    }
    assert sum(w.received for w in s.weekly) == s.totals.received
    return {
        "cells": cells,
        "on_time": s.on_time_rate,
        "reply": s.median_days_to_reply,
        "close": s.median_days_to_close,
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_counts_equal_a_naive_count_on_random_items(
    engine: Engine, session: Session, demo: None, seed: int
) -> None:
    # data.store inserts replies in bulk, two per answered item (the later must not count).
    store(engine, make_items(seed=seed, count=120))
    rng = random.Random(seed)
    period = Period(date(2026, 2, 2) + timedelta(rng.randint(0, 5)), date(2026, 3, 13))
    _agree(engine, ItemStore(), period)


def test_every_reply_insert_keeps_the_first_reply_time(engine: Engine, demo: None) -> None:
    # Core inserts (bulk, as imports and tests write) and ORM adds (review.service.add_reply),
    # in any order: the item keeps its earliest reply.
    t = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    a, b = insert_submissions(engine, rows=[{"at": t}, {"at": t}])
    with session_scope(engine) as s:
        s.execute(insert(Reply), [{"submission_id": a, "body": "x", "created_at": t + DAY * 2}])
        s.add(Reply(submission_id=b, body="y", created_at=t + timedelta(days=3)))
    with session_scope(engine) as s:
        s.add(Reply(submission_id=a, body="earlier", created_at=t + timedelta(days=1)))
        s.execute(insert(Reply), [{"submission_id": b, "body": "z", "created_at": t + DAY * 9}])
    with Session(engine) as s:
        got = {sid: s.get(Submission, sid).first_reply_at for sid in (a, b)}  # type: ignore[union-attr]
    assert got == {a: t + timedelta(days=1), b: t + timedelta(days=3)}


def test_migration_0015_fills_first_reply_times(database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        ensure_demo(s)
    t = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    a, b = insert_submissions(engine, rows=[{"at": t}, {"at": t}])
    with session_scope(engine) as s:
        s.execute(
            insert(Reply),
            [
                {"submission_id": a, "body": "2", "created_at": t + timedelta(days=2)},
                {"submission_id": a, "body": "1", "created_at": t + timedelta(days=1)},
            ],
        )
        # As rows written before 0015 were: no first reply time.
        s.execute(update(Submission).values(first_reply_at=None))
    command.downgrade(alembic_config(url), "0019")
    migrate(url)
    with Session(engine) as s:
        got = {sid: s.get(Submission, sid).first_reply_at for sid in (a, b)}  # type: ignore[union-attr]
    assert got == {a: t + timedelta(days=1), b: None}
    engine.dispose()


def _units(engine: Engine) -> list[int]:
    with Session(engine) as s:
        return [u.id for u in s.exec(select(Unit)) if u.id is not None]


MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def _received(engine: Engine, items: ItemStore) -> int:
    """Items received in March 2026, as the store counts them now."""
    with Session(engine) as s:
        return summarize(s, unit_ids=_units(engine), period=MARCH, store=items).totals.received


def _agree(engine: Engine, items: ItemStore, period: Period) -> None:
    with Session(engine) as s:
        ids = _units(engine)
        for unit_ids in (ids, ids[:1]):
            fast, naive = _fast(s, unit_ids, period, items), _naive(s, unit_ids, period)
            assert fast["cells"] == naive["cells"]
            assert fast["on_time"] == pytest.approx(naive["on_time"])
            assert (fast["reply"], fast["close"]) == (naive["reply"], naive["close"])


def test_one_store_follows_every_kind_of_write(engine: Engine, demo: None) -> None:
    # The store lives as long as the process; whoever writes, its next count must see it.
    items = ItemStore()
    period = Period(date(2026, 2, 2), date(2026, 3, 13))
    store(engine, make_items(seed=4, count=60))
    _agree(engine, items, period)  # the first count reads everything
    store(engine, make_items(seed=5, count=25))  # core inserts, and replies by the trigger
    _agree(engine, items, period)
    with session_scope(engine) as s:  # the ORM, as the services write
        subs = s.exec(select(Submission).order_by(col(Submission.id))).all()
        subs[0].status, subs[1].check = Status.closed, 3
        subs[2].unit_id = subs[3].unit_id if subs[2].unit_id != subs[3].unit_id else subs[4].unit_id
        subs[5].created_at = subs[5].created_at - timedelta(days=20)  # out of the period
        s.add(
            Reply(submission_id=subs[6].id or 0, body="答复", created_at=subs[6].created_at + DAY)
        )
        first, last = subs[0].id, subs[-1].id
    _agree(engine, items, period)
    with session_scope(engine) as s:  # bulk statements, as retention and imports write
        s.execute(update(Submission).where(col(Submission.id) % 3 == 0).values(status="new"))
        s.execute(delete(Reply).where(col(Reply.submission_id) == last))
        s.execute(delete(Submission).where(col(Submission.id).in_([first, last])))
    _agree(engine, items, period)
    with session_scope(engine) as s:  # one multi-row INSERT, as intake writes its batches
        table = Submission.__table__  # type: ignore[attr-defined]
        copies = s.execute(select(table).order_by(table.c.id).limit(5)).mappings().all()
        batch = [
            {k: v for k, v in c.items() if k != "id"} | {"receipt_hash": uuid.uuid4().hex}
            for c in copies
        ]
        s.execute(insert(Submission).values(batch))
    _agree(engine, items, period)


def test_a_write_that_commits_after_the_store_looked_is_seen_next_time(
    engine: Engine, demo: None
) -> None:
    t = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    a, b = insert_submissions(engine, rows=[{"at": t}, {"at": t}])
    items = ItemStore()

    def closed() -> int:
        with Session(engine) as s:
            return summarize(s, unit_ids=_units(engine), period=MARCH, store=items).totals.closed

    assert closed() == 0
    with engine.connect() as writer:
        slow = writer.begin()
        writer.execute(update(Submission).where(col(Submission.id) == a).values(status="closed"))
        assert closed() == 0  # not committed yet: the store must look again later
        if engine.dialect.name == "postgresql":
            # A later transaction commits first: its log row is newer than the slow one's.
            with session_scope(engine) as s:
                s.execute(update(Submission).where(col(Submission.id) == b).values(status="closed"))
            assert closed() == 1
        slow.commit()
    assert closed() == (2 if engine.dialect.name == "postgresql" else 1)


def test_the_worker_prunes_the_log_and_a_store_idle_that_long_reads_everything(
    engine: Engine, demo: None
) -> None:
    now = [0.0]
    items = ItemStore(clock=lambda: now[0])
    t = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    # Ten items, so that one change is too few to read them all again anyway.
    a, *_others = insert_submissions(engine, rows=[{"at": t}] * 10)

    assert _received(engine, items) == 10
    with session_scope(engine) as s:
        # Out of the period; then the log rows of a and of this change grow old.
        s.execute(update(Submission).where(col(Submission.id) == a).values(created_at=t - DAY * 30))
        s.execute(update(SubmissionChange).values(changed_on=date(2000, 1, 1)))
    (b,) = insert_submissions(engine, rows=[{"at": t}])
    with session_scope(engine) as s:  # yesterday's rows stay
        yesterday = utcnow().date() - DAY
        s.execute(insert(SubmissionChange).values(submission_id=b, changed_on=yesterday))
    assert prune(engine) == 11  # the ten inserts and the change
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(SubmissionChange)).one() == 2
    # Half a day later the store no longer trusts the log (it lost the row that moved a),
    # and reads every item again.
    now[0] += RELOAD_AFTER_SECONDS + 1
    assert _received(engine, items) == 10


def test_a_change_after_the_log_was_pruned_empty_is_seen(engine: Engine, demo: None) -> None:
    items = ItemStore()
    t = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    insert_submissions(engine, rows=[{"at": t}] * 10)

    assert _received(engine, items) == 10
    with session_scope(engine) as s:
        s.execute(update(SubmissionChange).values(changed_on=date(2000, 1, 1)))
    assert prune(engine) == 10
    insert_submissions(engine, rows=[{"at": t}])  # its log id must not start again from 1
    assert _received(engine, items) == 11


def test_a_restored_older_backup_under_the_running_service_is_counted_as_it_is(
    engine: Engine, demo: None, database_url: str, tmp_path: Path
) -> None:
    items = ItemStore()
    t = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    insert_submissions(engine, rows=[{"at": t}] * 10)

    assert _received(engine, items) == 10
    nightly = tmp_path / "nightly.bak"
    env = server_env(database_url)
    assert run_cli(env, "backup", "--out", str(nightly)).returncode == 0
    insert_submissions(engine, rows=[{"at": t}] * 5)
    assert _received(engine, items) == 15
    engine.dispose()  # pg_restore --clean waits for no connection
    restored = run_cli(env, "restore", str(nightly), "--force")
    assert restored.returncode == 0, restored.stderr
    assert _received(engine, items) == 10


def test_the_log_keeps_an_item_id_and_a_day_only(engine: Engine, demo: None) -> None:
    # docs/threat-model.md: no time of an anonymous sender's letter, only its UTC day.
    (a,) = insert_submissions(engine, rows=[{"at": datetime(2026, 3, 2, 4, 7, tzinfo=UTC)}])
    with Session(engine) as s:
        rows = s.exec(select(SubmissionChange)).all()
    assert [(r.submission_id, type(r.changed_on)) for r in rows] == [(a, date)]
    assert set(SubmissionChange.model_fields) == {"id", "submission_id", "xid", "changed_on"}
