"""`yijian digest ...` and `yijian worker` as operators run them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from app.core.db import session_scope
from app.core.time import TZ, today_local
from app.models import Role
from tests.conftest import ROOT, server_env
from tests.core.test_cli import run
from tests.digest.test_digest import store
from tests.servers.smtp import SmtpServer


def digest_env(database_url: str, tmp_path: Path, smtp: SmtpServer) -> dict[str, str]:
    return server_env(
        database_url, tmp_path,
        YIJIAN_SMTP_HOST=smtp.host, YIJIAN_SMTP_PORT=str(smtp.port),
        YIJIAN_SMTP_SECURITY="none", YIJIAN_MAIL_FROM="yijian@bureau.test",
        YIJIAN_DIGEST_TO="office@bureau.test",
    )


def seed_yesterday(engine: Engine) -> str:
    yesterday = today_local() - timedelta(days=1)
    noon = datetime(yesterday.year, yesterday.month, yesterday.day, 12, tzinfo=TZ)
    with session_scope(engine) as s:
        store(s, slug="demo", when=noon, role=Role.staff.value, check=3)
    return yesterday.isoformat()


def test_digest_commands(database_url: str, engine: Engine, demo: None, tmp_path: Path,
                         smtp_server: SmtpServer) -> None:
    env = digest_env(database_url, tmp_path, smtp_server)
    day = seed_yesterday(engine)
    shown = run(env, "digest", "settings", "--to", "a@bureau.test,b@bureau.test",
                "--daily", "07:30", "--weekly", "1", "--no-send-empty")
    assert shown.returncode == 0, shown.stderr
    assert "a@bureau.test, b@bureau.test" in shown.stdout and "周一 07:30" in shown.stdout
    bad = run(env, "digest", "settings", "--daily", "7.30")
    assert bad.returncode == 2 and "HH:MM" in bad.stderr
    assert run(env, "digest", "settings", "--weekly", "8").returncode == 2

    sent = run(env, "digest", "send", "--once", "--period", day)
    assert sent.returncode == 0, sent.stderr
    assert f"{day}：已发送" in sent.stdout
    [mail] = smtp_server.messages
    assert sorted(mail.rcpt_tos) == ["a@bureau.test", "b@bureau.test"]
    again = run(env, "digest", "send", "--once", "--period", day)
    assert again.returncode == 2 and "不再重复发送" in again.stderr
    assert len(smtp_server.messages) == 1

    assert run(env, "digest", "send", "--period", day).returncode == 2  # --once required
    wrong = run(env, "digest", "send", "--once", "--week", "2026-48")
    assert wrong.returncode == 2 and "周的格式不对" in wrong.stderr
    listed = run(env, "digest", "list")
    assert listed.returncode == 0 and f"{day}\t已发送" in listed.stdout


def test_worker_sends_the_due_digest_and_stops_on_sigterm(
    database_url: str, engine: Engine, demo: None, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    env = digest_env(database_url, tmp_path, smtp_server)
    seed_yesterday(engine)
    # Midnight: yesterday is due whenever this test runs.
    assert run(env, "digest", "settings", "--daily", "00:00").returncode == 0
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(smtp_server.messages) == 1, (tmp_path / "worker.log").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        log.close()
    assert code == 0
    assert "sent to bureau" in (tmp_path / "worker.log").read_text()
