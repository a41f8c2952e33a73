"""The purge removes exactly the identifying data of items closed long enough ago."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.core.db import session_scope
from app.models import AuditLog, RetentionHold, Submission, Unit
from app.retention.service import purge_due_items, set_policy
from app.stats.service import Period, summarize
from tests.retention.helpers import Item, closed_item, dump, today


def stats(engine: Engine) -> object:
    with Session(engine) as s:
        ids = [u for u in s.exec(select(Unit.id)).all() if u is not None]
        return summarize(s, unit_ids=ids, period=Period(date(2000, 1, 1), today()), today=today())


def items(engine: Engine) -> dict[str, Item]:
    made = {
        "old": closed_item(engine, "old", closed_days_ago=181),
        "edge": closed_item(engine, "edge", closed_days_ago=180),
        "young": closed_item(engine, "young", closed_days_ago=179),
        "held": closed_item(engine, "held", closed_days_ago=400),
        "open": closed_item(engine, "open", closed_days_ago=None),
        "noevent": closed_item(engine, "noevent", closed_days_ago=200, event=False),
    }
    with session_scope(engine) as s:
        s.add(RetentionHold(submission_id=made["held"].id, reason="信访复查中"))
    return made


def test_purge_removes_exactly_what_it_says(engine: Engine, demo: None) -> None:
    made = items(engine)
    stats_before, dump_before = stats(engine), dump(engine)
    with session_scope(engine) as s:
        result = purge_due_items(s, today=today())
    assert (result.items, result.identities, result.raw_emails, result.attachments) == (3, 3, 3, 6)
    assert result.held == 1
    after = dump(engine)
    purged, kept = ("old", "edge", "noevent"), ("young", "held", "open")
    for key in purged:
        assert [m for m in made[key].markers if m in after] == [], key
    for key in kept:
        assert all(m in after for m in made[key].markers), key
    for item in made.values():
        assert item.text in after and item.text in dump_before
        assert f"MSG-{item.text.split()[0][5:]}" in after  # the sender dialogue's text stays
    assert stats(engine) == stats_before
    with Session(engine) as s:
        old = s.get(Submission, made["old"].id)
        assert old is not None and (old.name, old.contact, old.anonymous) == (None, None, True)
        assert old.status == "closed" and old.unit_id is not None
        [audit] = s.exec(select(AuditLog).where(col(AuditLog.action) == "retention_purge")).all()
        assert audit.detail is not None and "NAME-" not in audit.detail

    # A second run finds nothing left to do.
    with session_scope(engine) as s:
        again = purge_due_items(s, today=today())
    assert (again.items, again.held) == (0, 1)
    assert dump(engine) == after


def test_dry_run_changes_nothing_and_counts_the_same(engine: Engine, demo: None) -> None:
    items(engine)
    before = dump(engine)
    with session_scope(engine) as s:
        dry = purge_due_items(s, today=today(), dry_run=True)
    assert dump(engine) == before
    assert dry.dry_run and "将清理 3 条" in dry.summary()
    with session_scope(engine) as s:
        real = purge_due_items(s, today=today())
    assert (dry.items, dry.identities, dry.raw_emails, dry.attachments, dry.held) == (
        real.items,
        real.identities,
        real.raw_emails,
        real.attachments,
        real.held,
    )


def test_the_bureau_policy_decides_the_day(engine: Engine, demo: None) -> None:
    young = closed_item(engine, "young", closed_days_ago=100)
    with session_scope(engine) as s:
        unit = s.exec(select(Unit)).first()
        assert unit is not None
        set_policy(s, bureau_id=unit.bureau_id, purge_days=100, archive_days=400, actor_id=None)
    with session_scope(engine) as s:
        assert purge_due_items(s, today=today()).ids == [young.id]
