"""Sending the outbox: each due mail sent, then marked in its own commit."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from app.core.db import session_scope
from app.mail.outbound import MailSender, MailSendError
from app.outbox import service as outbox

log = logging.getLogger(__name__)


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def send_due_mail(engine: Engine, sender: MailSender) -> SendResult:
    """Send queued mails (acknowledgements, replies), each marked in its own commit right
    after it went out.

    A crash between sending and marking sends that one mail again: at least once.
    """
    result = SendResult()
    while True:
        with session_scope(engine) as session:
            due = outbox.due_mail(session)
        if not due:
            return result
        # Each one sent or failed leaves the due set (a failure is retried later), so this ends.
        asyncio.run(_send(engine, sender, due, result))


async def _send(
    engine: Engine, sender: MailSender, due: list[outbox.PendingMail], result: SendResult
) -> None:
    for pending in due:
        try:
            await sender.send(pending.message)
        except MailSendError as exc:
            error = outbox.send_error(exc)
            log.warning("queued mail %s not sent: %s", pending.id, error)
            result.failed += 1
            with session_scope(engine) as session:
                outbox.mark_mail_failed(
                    session, mail_id=pending.id, error=error, temporary=exc.temporary
                )
            continue
        with session_scope(engine) as session:
            outbox.mark_mail_sent(session, mail_id=pending.id)
        result.sent += 1
