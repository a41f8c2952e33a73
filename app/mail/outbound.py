"""Sending mail over SMTP. The caller owns retries; this only reports failures clearly."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from app.mail.security import Security


class MailSendError(Exception):
    """Sending failed. `temporary` is True for 4xx replies and connection problems (retry
    later), False for 5xx replies (retrying the same message will not help)."""

    def __init__(self, message: str, *, temporary: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.code = code


class MailSender(Protocol):
    async def send(self, msg: EmailMessage) -> None: ...


class SmtpMailSender:
    """Submits messages to an SMTP server (QQ: smtp.qq.com:465 "ssl"; 163: smtp.163.com:465)."""

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        *,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.tls_context = tls_context

    async def send(self, msg: EmailMessage) -> None:
        try:
            # start_tls=False for "none": aiosmtplib otherwise upgrades opportunistically.
            await aiosmtplib.send(
                msg,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "ssl",
                start_tls=self.security == "starttls",
                tls_context=self.tls_context,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            temporary = all(400 <= c < 500 for c in codes)
            raise MailSendError(
                f"SMTP {self.host}:{self.port} refused all recipients: {exc}",
                temporary=temporary,
                code=codes[0] if codes else None,
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailSendError(
                f"SMTP {self.host}:{self.port} replied {exc.code} {exc.message}",
                temporary=400 <= exc.code < 500,
                code=exc.code,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailSendError(
                f"SMTP {self.host}:{self.port} failed: {exc}", temporary=True
            ) from exc




