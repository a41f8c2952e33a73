"""Sending the roster reminders: claim the due people in a commit, send, release the failed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from app.campaign import roster
from app.core.config import Settings
from app.core.db import session_scope
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
    due = await asyncio.to_thread(_claim_due, engine, settings=settings, unit_ids=unit_ids)
    run = await roster.send_reminders(sender, due, from_addr=settings.mail_from)
    await asyncio.to_thread(_release, engine, reminders=run.unsent)
    return run


def _claim_due(
    engine: Engine, *, settings: Settings, unit_ids: Sequence[int]
) -> list[roster.Reminder]:
    with Session(engine) as session:
        due = roster.due_reminders(
            session,
            unit_ids=unit_ids,
            secret=settings.secret_key,
            base_url=settings.base_url,
            every_days=settings.reminder_days,
        )
    # A transaction of its own that begins with the claim's write: see claim_reminders.
    with session_scope(engine) as session:
        return roster.claim_reminders(session, reminders=due, every_days=settings.reminder_days)


def _release(engine: Engine, *, reminders: Sequence[roster.Reminder]) -> None:
    with session_scope(engine) as session:
        roster.release_reminders(session, reminders=reminders)
