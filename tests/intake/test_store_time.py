"""Submission times are kept to the minute on every channel (docs/threat-model.md, "Timing"),
and a digest period still counts each item exactly once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.cli import alembic_config
from app.core.db import make_engine, session_scope
from app.core.time import TZ
from app.digest.content import build_digest
from app.digest.schedule import make_period
from app.models import Attachment, Bureau, Channel, DigestKind, Submission
from app.units.service import ensure_demo
from tests.conftest import fresh_database_url, migrate
from tests.factories import (
    add_submission,
    insert_submissions,
    jpeg_with_gps,
    new_submission,
    post_form,
)

# 10:14:37.123456 in Beijing: anything finer than 10:14 must not be kept.
EXACT = datetime(2025, 3, 10, 10, 14, 37, 123456, tzinfo=TZ)


def stored_times(engine: Engine) -> list[tuple[datetime, datetime]]:
    with Session(engine) as s:
        rows = s.exec(select(Submission).order_by(col(Submission.id))).all()
        return [(r.created_at, r.updated_at) for r in rows]


def assert_minutes(times: list[datetime]) -> None:
    assert times and all(t.second == 0 and t.microsecond == 0 for t in times), times


def test_web_form_and_api_keep_the_minute(client: TestClient, demo: None, engine: Engine) -> None:
    photo = ("photo.jpg", "image/jpeg", jpeg_with_gps())
    assert post_form(client, files=[photo]).status_code == 200
    named = post_form(client, anonymous=False, name="王五", text="named one")
    assert named.status_code == 200
    api = client.post("/api/v1/units/demo/submissions", json={"text": "校车太挤。"})
    assert api.status_code == 201
    times = stored_times(engine)
    assert len(times) == 3
    assert_minutes([t for pair in times for t in pair])
    with Session(engine) as s:
        assert_minutes([a.created_at for a in s.exec(select(Attachment)).all()])
    # What the receipt holder sees through the API is the same minute.
    receipt = api.json()["receipt"].replace(" ", "")
    shown = datetime.fromisoformat(client.get(f"/api/v1/receipts/{receipt}").json()["created_at"])
    assert shown == times[2][0]


def test_mail_and_offline_entry_keep_the_minute(demo: None, engine: Engine) -> None:
    with session_scope(engine) as s:
        # Mail is stored with the time it is ingested (created_at None), or a given one.
        mail = new_submission(channel=Channel.email, created_at=EXACT, check_open=False)
        add_submission(s, new=mail)
        add_submission(s, new=new_submission(channel=Channel.email, check_open=False))
        # Offline entry (letters, meetings) hands over a time too, however it was typed.
        add_submission(
            s, new=new_submission(channel=Channel.letter, created_at=EXACT, check_open=False)
        )
    times = stored_times(engine)
    assert times[0][0] == EXACT.replace(second=0, microsecond=0)
    assert_minutes([t for pair in times for t in pair])


def test_a_digest_day_counts_boundary_items_once(demo: None, engine: Engine) -> None:
    day = date(2025, 3, 10)
    midnight = datetime(2025, 3, 11, tzinfo=TZ)
    edges = [
        midnight - timedelta(microseconds=1),  # 23:59:59.999999 on the 10th -> 23:59
        midnight - timedelta(seconds=59, microseconds=999999),  # 23:59:00.000001 -> 23:59
        midnight,
        midnight + timedelta(seconds=59, microseconds=999999),  # 00:00:59.999999 -> 00:00
    ]
    with session_scope(engine) as s:
        for at in edges:
            add_submission(s, new=new_submission(created_at=at, check_open=False))
    with Session(engine) as s:
        bureau = s.exec(select(Bureau)).first()
        assert bureau is not None and bureau.id is not None
        first = build_digest(s, bureau_id=bureau.id, period=make_period(DigestKind.day, day))
        second = build_digest(
            s, bureau_id=bureau.id, period=make_period(DigestKind.day, day + timedelta(days=1))
        )
    assert (first.total, second.total) == (2, 2)


def test_migration_0011_cuts_stored_times(database_url: str, tmp_path: Path) -> None:
    # Rows stored before times were cut: the migration leaves them the minute only (on a
    # fresh database of the kind database_url names).
    url = fresh_database_url(tmp_path)
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        ensure_demo(s)
    (sid,) = insert_submissions(engine, rows=[{"at": EXACT}])
    with session_scope(engine) as s:
        s.add(
            Attachment(
                submission_id=sid,
                filename="附件1.jpg",
                content_type="image/jpeg",
                size=1,
                sha256="0" * 64,
                data=b"x",
                created_at=EXACT,
            )
        )
    command.downgrade(alembic_config(url), "0010")
    migrate(url, "0011")
    with Session(engine) as s:
        sub = s.get(Submission, sid)
        assert sub is not None
        # Only the time: at 0011 the data is not encrypted yet, which today's model expects.
        attached_at = s.exec(select(Attachment.created_at)).one()
        minute = EXACT.replace(second=0, microsecond=0)
        assert sub.created_at == sub.updated_at == attached_at == minute
    engine.dispose()
