"""Alert mails: to the unit's and the bureau's duty addresses, once, retried, no sender."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.alerts.jobs import AlertResult, send_alerts
from app.alerts.service import set_contact
from app.core.config import Settings
from app.core.db import session_scope
from app.models import OutboxKind, OutboxMail, OutboxStatus, UrgentFlag, utcnow
from tests.conftest import make_settings, run_cli, server_env, smtp_env, smtp_sender
from tests.factories import add_submission, new_submission, unit_id
from tests.helpers import as_processes, parsed_mail, plain_text, signed_in_admin, soup
from tests.servers.smtp import SmtpServer

URGENT = "我家孩子昨天放学到现在还没回家，电话也联系不上，请学校帮忙找找！"
NAME, CONTACT = "王大锤NAMEMARK", "13912345678"


def alert_settings(database_url: str, smtp: SmtpServer) -> Settings:
    return make_settings(
        database_url,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="none",
        mail_from="yijian@bureau.test",
        alert_to="office@bureau.test",
        base_url="https://yijian.example",
    )


def duty_for_demo(engine: Engine) -> None:
    with session_scope(engine) as s:
        set_contact(s, unit_id=unit_id(s, slug="demo"), email="duty@demo.test")


def this_minute() -> datetime:
    return utcnow().replace(second=0, microsecond=0)


def add_urgent(
    engine: Engine, text: str = URGENT, *, named: bool = False, minutes_ago: int = 1
) -> int:
    """An item stored (and flagged, if urgent) `minutes_ago` minutes ago."""
    with session_scope(engine) as s:
        new = new_submission(text=text, anonymous=not named, name=NAME, contact=CONTACT)
        sid = add_submission(s, new=new)
        s.execute(
            update(UrgentFlag)
            .where(col(UrgentFlag.submission_id) == sid)
            .values(created_at=this_minute() - timedelta(minutes=minutes_ago))
        )
        return sid


def test_an_alert_goes_to_the_unit_and_the_bureau_without_the_sender(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    duty_for_demo(engine)
    long_text = URGENT + "孩子平时很乖。" * 100 + "TAILMARK"
    sid = add_urgent(engine, long_text, named=True)
    settings = alert_settings(database_url, smtp_server)
    result = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert (result.queued, result.sent, result.failed) == (2, 2, 0)
    rcpts = sorted(r for m in smtp_server.messages for r in m.rcpt_tos)
    assert rcpts == ["duty@demo.test", "office@bureau.test"]
    for mail in smtp_server.messages:
        msg = parsed_mail(mail.data)
        body = plain_text(msg)
        assert "【紧急】" in str(msg["Subject"]) and "学生失联" in str(msg["Subject"])
        assert "单位：示范县第一初级中学" in body
        assert "五查类别：" in body and "紧急类别：学生失联" in body
        assert URGENT in body and "TAILMARK" not in body
        assert f"https://yijian.example/admin/items/{sid}" in body
        raw = mail.data.decode("utf-8", "replace")
        assert NAME not in body and CONTACT not in body and "NAMEMARK" not in raw
    # A second tick sends nothing again.
    again = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert (again.queued, again.sent) == (0, 0) and len(smtp_server.messages) == 2


def test_three_workers_at_once_alert_each_item_and_address_once(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    duty_for_demo(engine)
    ids = [add_urgent(engine, f"{URGENT}（第{i}位家长）") for i in range(15)]
    settings = alert_settings(database_url, smtp_server)
    results = as_processes(
        database_url, 3, lambda own: send_alerts(own, settings, smtp_sender(smtp_server))
    )
    assert all(isinstance(r, AlertResult) for r in results), results
    assert sum(r.queued for r in results if isinstance(r, AlertResult)) == 30
    assert len(smtp_server.messages) == 30
    with Session(engine) as s:
        rows = s.exec(select(OutboxMail).where(OutboxMail.kind == OutboxKind.alert)).all()
    assert sorted(r.submission_id for r in rows) == sorted(ids * 2)
    assert all(r.status == OutboxStatus.sent for r in rows)


def test_a_refused_alert_is_retried(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    add_urgent(engine)
    settings = alert_settings(database_url, smtp_server)
    smtp_server.refuse = "451 4.3.0 Try again later"
    first = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert (first.queued, first.sent, first.failed) == (1, 0, 1)
    smtp_server.refuse = None
    with session_scope(engine) as s:  # the retry's time has come
        s.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
    second = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert (second.queued, second.sent) == (0, 1)
    assert [r for m in smtp_server.messages for r in m.rcpt_tos] == ["office@bureau.test"]


def test_an_alert_waits_for_the_minute_of_arrival_to_pass(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    duty_for_demo(engine)
    add_urgent(engine, minutes_ago=0)
    settings = alert_settings(database_url, smtp_server)
    result = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert result.queued == 0 and smtp_server.messages == []
    with session_scope(engine) as s:
        s.execute(
            update(UrgentFlag).values(created_at=this_minute() - timedelta(minutes=1))
        )
    later = send_alerts(engine, settings, smtp_sender(smtp_server))
    assert later.queued == 2 and len(smtp_server.messages) == 2


def test_a_cleared_or_ordinary_item_sends_no_alert(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    sid = add_urgent(engine)
    add_urgent(engine, "希望学校多组织春游活动。")
    with session_scope(engine) as s:
        s.execute(
            update(UrgentFlag).where(col(UrgentFlag.submission_id) == sid).values(cleared=True)
        )
    result = send_alerts(
        engine, alert_settings(database_url, smtp_server), smtp_sender(smtp_server)
    )
    assert result.queued == 0 and smtp_server.messages == []


def test_the_cli_sets_duty_addresses_and_sends_due_alerts(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer
) -> None:
    env = server_env(database_url, **smtp_env(smtp_server, mail_from="yijian@bureau.test"))
    done = run_cli(env, "alerts", "contact", "--unit", "demo", "--email", "duty@demo.test")
    assert done.returncode == 0, done.stderr
    done = run_cli(env, "alerts", "contact", "--bureau", "--email", "chief@bureau.test")
    assert done.returncode == 0, done.stderr
    bad = run_cli(env, "alerts", "contact", "--unit", "demo", "--email", "not-an-address")
    assert bad.returncode == 2 and "值班邮箱格式不正确" in bad.stderr
    add_urgent(engine)
    sent = run_cli(env, "alerts", "send", "--once")
    assert sent.returncode == 0, sent.stderr
    assert "发出 2 封" in sent.stdout
    rcpts = sorted(r for m in smtp_server.messages for r in m.rcpt_tos)
    assert rcpts == ["chief@bureau.test", "duty@demo.test"]


def test_the_duty_addresses_page(client: TestClient, engine: Engine, demo: None) -> None:
    csrf = signed_in_admin(client, engine)
    page = soup(client.get("/admin/alerts").text)
    names = [i["name"] for i in page.select("#contacts-form input[type=email]")]
    assert names[0] == "email_bureau" and sorted(names[1:]) == ["email_demo", "email_demo2"]
    bad = client.post("/admin/alerts", data={"csrf": csrf, "email_demo": "nonsense"})
    assert bad.status_code == 422
    assert "值班邮箱格式不正确" in soup(bad.text).select_one("#contacts-error").get_text()
    ok = client.post(
        "/admin/alerts",
        data={"csrf": csrf, "email_bureau": "office@bureau.test", "email_demo": "d@demo.test"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    page = soup(client.get("/admin/alerts").text)
    values = {i["name"]: i.get("value") for i in page.select("#contacts-form input[type=email]")}
    assert values == {
        "email_bureau": "office@bureau.test",
        "email_demo": "d@demo.test",
        "email_demo2": "",
    }
