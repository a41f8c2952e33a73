"""`yijian digest ...` and `yijian worker` as operators run them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import ROOT, digest_env, run_cli
from tests.factories import seed_yesterday
from tests.servers.smtp import SmtpServer


def test_digest_commands(database_url: str, engine: Engine, demo: None,
                         smtp_server: SmtpServer) -> None:
    env = digest_env(database_url, smtp_server)
    day = seed_yesterday(engine)
    shown = run_cli(env, "digest", "settings", "--to", "a@bureau.test,b@bureau.test",
                "--daily", "07:30", "--weekly", "1", "--no-send-empty")
    assert shown.returncode == 0, shown.stderr
    assert "a@bureau.test, b@bureau.test" in shown.stdout and "周一 07:30" in shown.stdout
    bad = run_cli(env, "digest", "settings", "--daily", "7.30")
    assert bad.returncode == 2 and "HH:MM" in bad.stderr
    assert run_cli(env, "digest", "settings", "--weekly", "8").returncode == 2

    sent = run_cli(env, "digest", "send", "--once", "--period", day)
    assert sent.returncode == 0, sent.stderr
    assert f"{day}：已发送" in sent.stdout
    [mail] = smtp_server.messages
    assert sorted(mail.rcpt_tos) == ["a@bureau.test", "b@bureau.test"]
    again = run_cli(env, "digest", "send", "--once", "--period", day)
    assert again.returncode == 2 and "不再重复发送" in again.stderr
    assert len(smtp_server.messages) == 1

    assert run_cli(env, "digest", "send", "--period", day).returncode == 2  # --once required
    wrong = run_cli(env, "digest", "send", "--once", "--week", "2026-48")
    assert wrong.returncode == 2 and "周的格式不对" in wrong.stderr
    listed = run_cli(env, "digest", "list")
    assert listed.returncode == 0 and f"{day}\t已发送" in listed.stdout


def test_worker_sends_the_due_digest_and_stops_on_sigterm(
    database_url: str, engine: Engine, demo: None, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    env = digest_env(database_url, smtp_server)
    seed_yesterday(engine)
    # Midnight: yesterday is due whenever this test runs.
    assert run_cli(env, "digest", "settings", "--daily", "00:00").returncode == 0
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
