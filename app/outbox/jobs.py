"""Sending the outbox: each due mail sent, then marked in its own commit."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from app.core.db import claim_engine, session_scope
from app.mail.outbound import MailSender, MailSendError
from app.models import utcnow
from app.outbox import service as outbox

log = logging.getLogger(__name__)


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def send_due_mail(engine: Engine, sender: MailSender) -> SendResult:
    """Send queued mails (acknowledgements, replies): claimed a batch at a time, so any
    number of workers and `inbox poll --once` runs send each mail once, and each marked in
    its own commit right after it went out.

    A crash between sending and marking sends that one mail again, once its claim runs
    out: at least once, never more for any other reason.
    """
    result = SendResult()
    with claim_engine(engine) as claims:
        while True:
            with session_scope(claims) as session:
                due = outbox.claim_due_mail(session, now=utcnow())
            if not due:
                return result
            # Claimed rows leave the due set until sent, failed or their lease ends: this ends.
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
