"""Sending the roster reminders: claim the due people in a commit, send, release the failed."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sqlalchemy import Engine

from app.campaign import roster
from app.core.config import Settings
from app.core.db import run_committed
from app.mail.outbound import MailSender


async def send_reminders_now(
    engine: Engine, *, settings: Settings, sender: MailSender, unit_ids: Sequence[int]
) -> roster.ReminderRun:
    """Email their link to the due people of these units (the button and `roster remind`).

    Each person is claimed in a commit before any mail goes out, so two runs at once (a
    double click, the CLI from cron) never send one twice; a refused address is released
    and tried again on the next run. The caller has checked YIJIAN_MAIL_FROM.
    """
    assert settings.mail_from
    every_days = settings.reminder_days
    due = await run_committed(
        engine,
        partial(
            roster.due_reminders,
            unit_ids=unit_ids,
            secret=settings.secret_key,
            base_url=settings.base_url,
            every_days=every_days,
        ),
    )
    # A transaction of its own that begins with the claim's write: see claim_reminders.
    claimed = await run_committed(
        engine, partial(roster.claim_reminders, reminders=due, every_days=every_days)
    )
    run = await roster.send_reminders(sender, claimed, from_addr=settings.mail_from)
    await run_committed(engine, partial(roster.release_reminders, reminders=run.unsent))
    return run
