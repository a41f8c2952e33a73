"""A similar-concern group growing fast: one alert per window to the duty addresses."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from app.alerts.jobs import AlertResult, send_alerts
from app.core.db import session_scope
from app.models import ConcernGroup, ConcernMember, Unit, utcnow
from tests.alerts.test_send import alert_settings, duty_for_demo
from tests.conftest import smtp_sender
from tests.factories import insert_submissions
from tests.helpers import as_processes, parsed_mail, plain_text
from tests.servers.smtp import SmtpServer

CANTEEN = "学校食堂饭菜价格又涨了，一份午饭要十五元，家长负担重。TEXTMARK"


def grow_group(engine: Engine, *, new: int, old: int = 0) -> int:
    """A group of `old` items from last week and `new` items from the last hours."""
    now = utcnow()
    rows = [{"text": CANTEEN, "at": now - timedelta(days=7)} for _ in range(old)]
    rows += [{"text": CANTEEN, "at": now - timedelta(hours=2)} for _ in range(new)]
    ids = insert_submissions(engine, rows=rows)
    with session_scope(engine) as s:
        bureau_id = s.exec(select(Unit.bureau_id).where(Unit.slug == "demo")).one()
        group = ConcernGroup(bureau_id=bureau_id, lead_submission_id=ids[0])
        s.add(group)
        s.flush()
        assert group.id is not None
        for sid in ids:
            s.add(ConcernMember(submission_id=sid, group_id=group.id))
        return group.id


def test_a_fast_growing_group_is_alerted_once(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    duty_for_demo(engine)
    gid = grow_group(engine, new=10, old=5)
    settings = alert_settings(database_url, smtp_server)
    result = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert (result.queued, result.sent) == (1, 1)
    # The bureau's duty address only, not the school's (duty@demo.test).
    assert [r for m in smtp_server.messages for r in m.rcpt_tos] == ["office@bureau.test"]
    for mail in smtp_server.messages:
        msg = parsed_mail(mail.data)
        body = plain_text(msg)
        assert "【同类问题】" in str(msg["Subject"]) and "新增 10 条" in str(msg["Subject"])
        assert "24 小时内新增 10 条意见（共 15 条）" in body
        assert f"https://yijian.example/admin?group={gid}" in body
        assert "TEXTMARK" not in mail.data.decode("utf-8", "replace")  # no sender's words
    again = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert again.queued == 0 and len(smtp_server.messages) == 1


def test_a_slowly_growing_group_is_not_alerted(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    duty_for_demo(engine)
    grow_group(engine, new=9, old=30)
    settings = alert_settings(database_url, smtp_server)
    result = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert result.queued == 0 and smtp_server.messages == []


def test_two_workers_at_once_alert_a_group_once(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    duty_for_demo(engine)
    grow_group(engine, new=12)
    settings = alert_settings(database_url, smtp_server)
    results = as_processes(
        database_url, 2, lambda own: send_alerts(own, settings, smtp_sender(smtp_server))
    )
    assert all(isinstance(r, AlertResult) for r in results), results
    assert sum(r.queued for r in results if isinstance(r, AlertResult)) == 1
    assert len(smtp_server.messages) == 1
