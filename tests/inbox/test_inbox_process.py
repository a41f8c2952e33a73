"""The poller as operators run it: `yijian inbox poll --once`, `yijian worker`, killed mid-pass."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.models import InboundMessage, OutboxMail, OutboxStatus, Submission
from tests.conftest import ROOT, run_cli, server_env, smtp_env
from tests.factories import incoming_mail
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer


def mail_env(database_url: str, imap: DovecotServer, smtp: SmtpServer,
             **extra: str) -> dict[str, str]:
    return server_env(
        database_url,
        YIJIAN_IMAP_HOST=imap.host, YIJIAN_IMAP_PORT=str(imap.port), YIJIAN_IMAP_SECURITY="none",
        YIJIAN_IMAP_USER=imap.user, YIJIAN_IMAP_PASSWORD=imap.password, YIJIAN_IMAP_UNIT="demo",
        **smtp_env(smtp, mail_from="yijian@school.test"), **extra,
    )


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        subs = session.exec(select(func.count()).select_from(Submission)).one()
        rows = session.exec(select(func.count()).select_from(InboundMessage)).one()
        sent = session.exec(
            select(func.count())
            .select_from(OutboxMail)
            .where(OutboxMail.status == OutboxStatus.sent)
        ).one()
        return subs, rows, sent


@pytest.mark.parametrize("crash_at", ["before_commit", "after_commit"])
def test_killed_poller_neither_loses_nor_duplicates(
    crash_at: str, database_url: str, engine: Engine, demo: None, dovecot: DovecotServer,
    smtp_server: SmtpServer, tmp_path: Path,
) -> None:
    for n in range(5):
        dovecot.deliver(incoming_mail(n=n, sender=f"p{n}@example.test"))
    env = mail_env(database_url, dovecot, smtp_server)
    crashed = run_cli(env, "inbox", "poll", "--once", crash_at=f"inbox.{crash_at}")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    # Killed before \Seen in both cases: the server still calls every message unread.
    assert all("\\Seen" not in f for f in dovecot.flags().values())
    assert counts(engine) == ((0, 0, 0) if crash_at == "before_commit" else (5, 5, 0))
    assert smtp_server.messages == []

    done = run_cli(env, "inbox", "poll", "--once")
    assert done.returncode == 0, done.stderr
    assert counts(engine) == (5, 5, 5)
    assert all("\\Seen" in f for f in dovecot.flags().values())
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        f"p{n}@example.test" for n in range(5)]
    with Session(engine) as session:  # mail is tagged like every other channel
        tags = session.exec(select(Submission.tagger)).all()
        assert tags and all(t and t.startswith("ngram:") for t in tags)
    again = run_cli(env, "inbox", "poll", "--once")
    assert again.returncode == 0 and "取回 0 封" in again.stdout
    assert counts(engine) == (5, 5, 5) and len(smtp_server.messages) == 5


def test_cli_mailbox_commands(database_url: str, engine: Engine, demo: None,
                              dovecot: DovecotServer) -> None:
    env = server_env(database_url)
    added = run_cli(env, "inbox", "add", "--name", "demo-box", "--host", dovecot.host,
                    "--port", str(dovecot.port), "--security", "none", "--user", dovecot.user,
                    "--password", dovecot.password, "--unit", "demo")
    assert added.returncode == 0, added.stderr
    bad = run_cli(env, "inbox", "add", "--name", "x", "--host", "h", "--user", "u",
                  "--password", "p", "--unit", "nowhere")
    assert bad.returncode == 2 and "没有找到这个单位" in bad.stderr
    listed = run_cli(env, "inbox", "list")
    assert "demo-box" in listed.stdout and "从未" in listed.stdout
    assert dovecot.password not in listed.stdout
    dovecot.deliver(incoming_mail())
    polled = run_cli(env, "inbox", "poll", "--once")
    assert polled.returncode == 0 and "ingested 1" in polled.stdout, polled.stderr
    refused = run_cli(env, "inbox", "remove", "demo-box")
    assert refused.returncode == 2 and "只能停用" in refused.stderr
    assert run_cli(env, "inbox", "disable", "demo-box").returncode == 0
    assert "停用" in run_cli(env, "inbox", "list").stdout
    dovecot.deliver(incoming_mail(n=2))
    assert "邮箱 0 个" in run_cli(env, "inbox", "poll", "--once").stdout
    assert run_cli(env, "inbox", "add", "--name", "spare", "--host", "h", "--user", "u",
                   "--password", "p").returncode == 0
    assert run_cli(env, "inbox", "remove", "spare").returncode == 0
    assert "spare" not in run_cli(env, "inbox", "list").stdout


def test_worker_polls_until_terminated(
    database_url: str, engine: Engine, demo: None, dovecot: DovecotServer,
    smtp_server: SmtpServer, tmp_path: Path,
) -> None:
    env = mail_env(database_url, dovecot, smtp_server, YIJIAN_POLL_SECONDS="1")
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        # Mail arriving while the worker runs is picked up by a later tick.
        dovecot.deliver(incoming_mail())
        deadline = time.monotonic() + 60
        while counts(engine)[2] < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        dovecot.deliver(incoming_mail(n=2, sender="later@example.test"))
        while counts(engine)[2] < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        log.close()
    output = (tmp_path / "worker.log").read_text(errors="replace")
    assert code == 0, output
    assert counts(engine) == (2, 2, 2), output
    assert "parent@example.test" not in output and "later@example.test" not in output
