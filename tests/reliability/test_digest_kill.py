"""`yijian digest send --once` killed mid-pass, then run again once the dead sender's lease
has run out: the period's digest is sent (no loss) and recorded once (no duplicate row); a
resend happens only when the kill fell after SMTP accepted the mail, and carries the same
Message-ID, so mail clients show one message."""

from __future__ import annotations

import signal
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.models import Digest, DigestStatus, utcnow
from tests.conftest import digest_env, run_cli
from tests.factories import seed_yesterday
from tests.helpers import sent_message
from tests.servers.smtp import SmtpServer


def send(env: dict[str, str], day: str, crash_at: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    return run_cli(env, "digest", "send", "--once", "--period", day, crash_at=crash_at)


@pytest.mark.parametrize(
    ("crash_at", "mails"), [("digest.after_claim", 1), ("digest.after_send", 2)]
)
def test_digest_sender_killed_mid_pass(
    crash_at: str, mails: int, database_url: str, engine: Engine, demo: None,
    smtp_server: SmtpServer,
) -> None:
    env = digest_env(database_url, smtp_server)
    day = seed_yesterday(engine)
    killed = send(env, day, crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with Session(engine) as s:
        row = s.exec(select(Digest)).one()
        assert row.status == DigestStatus.sending
        # While the dead sender's lease holds, a second sender refuses to send it too.
        busy = send(env, day)
        assert busy.returncode == 2 and "正在发送" in busy.stderr
        # Time passes: the lease runs out, as it would in production.
        s.execute(update(Digest).where(col(Digest.id) == row.id)
                  .values(claimed_until=utcnow() - timedelta(seconds=1)))
        s.commit()
    again = send(env, day)
    assert again.returncode == 0, again.stderr
    with Session(engine) as s:
        rows = s.exec(select(Digest)).all()
    assert len(rows) == 1 and rows[0].status == DigestStatus.sent and rows[0].attempts == 2
    assert len(smtp_server.messages) == mails
    sent_ids = {sent_message(smtp_server, i)["Message-ID"] for i in range(mails)}
    assert sent_ids == {rows[0].message_id}
    assert send(env, day).returncode == 2  # and never a third time
