"""Email intake throughput: N messages from a throwaway Dovecot into a fresh SQLite database.

Delivers N messages by IMAP APPEND, then times one `poll_mailboxes` pass (fetch, parse,
store, commit, flag \\Seen; with --acks also one acknowledgement each to a local aiosmtpd).
Run as root with dovecot-imapd installed:  .venv/bin/python bench/inbox.py [-n 1000] [--acks]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402

from app.inbox.jobs import poll_mailboxes  # noqa: E402
from app.inbox.mailboxes import MailboxSpec, add_mailbox  # noqa: E402
from app.mail.outbound import SmtpMailSender  # noqa: E402
from app.models import Submission  # noqa: E402
from app.units.service import ensure_demo  # noqa: E402
from tests.conftest import make_settings, migrate  # noqa: E402
from tests.servers.dovecot import running_dovecot  # noqa: E402


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"parent{n}@example.test"
    msg["To"] = "inbox+demo2@school.test" if n % 2 else "inbox@school.test"
    msg["Subject"] = "【匿名】食堂建议" if n % 3 == 0 else f"关于校车的建议 {n}"
    msg["Message-ID"] = f"<bench{n}@client.example>"
    msg.set_content(f"希望学校改进食堂和校车安排，这是第 {n} 条意见。" * 5)
    return msg.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1000, help="messages to deliver")
    parser.add_argument("--acks", action="store_true", help="also send acknowledgements")
    args = parser.parse_args()

    from app.core.db import make_engine

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = f"sqlite:///{tmp / 'bench.db'}"
        migrate(url)
        settings = make_settings(url, mail_from="yijian@school.test")
        imap = stack.enter_context(running_dovecot())
        client = IMAPClient(imap.host, port=imap.port, ssl=False)
        client.login(imap.user, imap.password)
        for n in range(args.n):
            client.append("INBOX", message(n))
        client.logout()

        engine = make_engine(url)
        with Session(engine) as session:
            ensure_demo(session)
            add_mailbox(session, spec=MailboxSpec(
                name="bench", host=imap.host, port=imap.port, security="none",
                username=imap.user, password=imap.password, unit_slug="demo"))
            session.commit()
        sender = None
        if args.acks:
            from aiosmtpd.controller import Controller

            from tests.servers.dovecot import free_port
            from tests.servers.smtp import SmtpServer

            smtp = SmtpServer("127.0.0.1", free_port())
            controller = Controller(smtp, hostname=smtp.host, port=smtp.port)
            controller.start()
            stack.callback(controller.stop)
            sender = SmtpMailSender(smtp.host, smtp.port, "none")

        start = time.perf_counter()
        result = poll_mailboxes(engine, settings, sender)
        elapsed = time.perf_counter() - start
        with Session(engine) as session:
            stored = session.exec(select(func.count()).select_from(Submission)).one()
        engine.dispose()
    assert not result.errors, result.errors
    assert stored == args.n, (stored, args.n)
    print(f"{args.n} messages, {stored} submissions, {result.acks_sent} acks in {elapsed:.2f} s: "
          f"{args.n / elapsed:.0f} messages/s (SQLite, synchronous=FULL"
          f"{', acks via SMTP' if args.acks else ''})")


if __name__ == "__main__":
    main()
