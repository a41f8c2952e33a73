"""`yijian deadline times|email`: answer times and reminder addresses from the command line."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.models import AdminUser, Bureau, Unit
from tests.conftest import run_cli, server_env
from tests.factories import add_admin


def test_times_and_email_are_set_and_bad_values_refused(
    engine: Engine, database_url: str, demo: None
) -> None:
    add_admin(engine, username="head")
    env = server_env(database_url)
    done = run_cli(env, "deadline", "times", "--unit", "demo", "--answer-days", "7",
                   "--ack-days", "2")
    assert done.returncode == 0, done.stderr
    done = run_cli(env, "deadline", "times", "--bureau", "--answer-days", "10", "--approval")
    assert done.returncode == 0, done.stderr
    bad = run_cli(env, "deadline", "times", "--unit", "demo", "--answer-days", "0")
    assert bad.returncode == 2 and "1 到 60" in bad.stderr
    both = run_cli(env, "deadline", "times", "--unit", "demo", "--bureau")
    assert both.returncode == 2 and "之一" in both.stderr
    mail = run_cli(env, "deadline", "email", "--username", "head", "--email", "h@s.test")
    assert mail.returncode == 0, mail.stderr
    wrong = run_cli(env, "deadline", "email", "--username", "head", "--email", "not-mail")
    assert wrong.returncode == 2 and "邮箱地址格式不正确" in wrong.stderr
    with Session(engine) as s:
        unit = s.exec(select(Unit).where(Unit.slug == "demo")).one()
        bureau = s.exec(select(Bureau)).one()
        head = s.exec(select(AdminUser).where(AdminUser.username == "head")).one()
    assert (unit.answer_days, unit.ack_days) == (7, 2)
    assert (bureau.answer_days, bureau.extension_needs_approval) == (10, True)
    assert head.email == "h@s.test"
