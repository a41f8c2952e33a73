"""Sending alerts: queue each urgent item's mails (once per address), then send the outbox."""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass

from sqlalchemy import Engine

from app.alerts.growth import queue_growth_alerts
from app.alerts.service import AlertSettings, claim_due_hooks, mark_hook, queue_due_alerts
from app.core.config import Settings
from app.core.db import claim_engine, session_scope
from app.core.jobs import Job, JobContext, checkpoint
from app.mail.outbound import MailSender
from app.models import utcnow
from app.outbox.jobs import send_due_mail

log = logging.getLogger(__name__)

# Every worker tick: an urgent item must not wait for tomorrow's digest.
ALERT_INTERVAL = 10.0


@dataclass
class AlertResult:
    queued: int = 0  # mails and robot messages
    sent: int = 0  # mails (the outbox's whole batch) and robot messages
    failed: int = 0

    def summary(self) -> str:
        return f"{self.queued} alerts queued, {self.sent} sent, {self.failed} failed"


def alert_settings(settings: Settings) -> AlertSettings:
    """What alert mails need of the settings."""
    return AlertSettings(
        base_url=settings.base_url,
        mail_from=settings.mail_from,
        default_to=settings.alert_to,
        group_min=settings.group_alert_min,
        group_hours=settings.group_alert_hours,
    )


def send_alerts(engine: Engine, settings: Settings, sender: MailSender) -> AlertResult:
    """Queue the due alert mails (committed before anything is sent), then send the outbox:
    a failed mail stays queued and the outbox retries it."""
    with claim_engine(engine) as claims, session_scope(claims) as session:
        queued = queue_due_alerts(session, settings=alert_settings(settings))
        queued += queue_growth_alerts(session, settings=alert_settings(settings), now=utcnow())
    checkpoint("alerts-queued")
    mails = send_due_mail(engine, sender)
    result = AlertResult(queued=queued, sent=mails.sent, failed=mails.failed)
    post_due_hooks(engine, settings, result)
    return result


def post_due_hooks(engine: Engine, settings: Settings, result: AlertResult) -> None:
    """Post the due group-robot messages, each marked in its own commit right after."""
    with claim_engine(engine) as claims:
        while True:
            with session_scope(claims) as session:
                due = claim_due_hooks(session, now=utcnow(), base_url=settings.base_url)
            if not due:
                return
            for hook in due:
                error = post_json(hook.url, hook.payload)
                # Read, then write: on SQLite that must start as a write (BEGIN IMMEDIATE).
                with session_scope(claims) as session:
                    mark_hook(session, delivery_id=hook.id, error=error)
                if error is None:
                    result.sent += 1
                else:
                    log.warning("robot alert %s not delivered: %s", hook.id, error)
                    result.failed += 1


def post_json(url: str, payload: bytes) -> str | None:
    """POST a robot message; None when it was taken (HTTP 200 and errcode 0), else why not."""
    request = urllib.request.Request(  # noqa: S310  # the admin's http(s) robot address
        url, data=payload, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
            answer = json.loads(response.read() or b"{}")
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    return None if code == 0 else f"errcode {code}"


def jobs(context: JobContext) -> list[Job]:
    """Every tick: alert the duty addresses of new urgent items (needs an SMTP server)."""
    sender = context.sender
    if sender is None:
        return []
    return [
        Job("alerts", ALERT_INTERVAL, lambda: send_alerts(context.engine, context.settings, sender))
    ]
