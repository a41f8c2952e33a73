"""A real SMTP server for tests, built on aiosmtpd (pytest plugin: list it in `pytest_plugins`).

Fixture `smtp_server` records every accepted message (envelope and raw bytes). Set
`smtp_server.refuse = "451 4.3.0 Try again later"` to make it refuse DATA, e.g. to test retries,
or `smtp_server.refuse_rcpt = "a@b.example"` to refuse one recipient.
It accepts AUTH PLAIN/LOGIN over plain text (username "mailer", password "secret") but does not
require it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.servers.dovecot import free_port

SMTP_USER = "mailer"
SMTP_PASSWORD = "secret"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[ReceivedMail] = field(default_factory=list)
    refuse: str | None = None
    """An SMTP reply such as "451 4.3.0 Try again later" sent instead of accepting DATA."""
    refuse_rcpt: str | None = None
    """A recipient address answered with "550 5.1.1" (no such user)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address == self.refuse_rcpt:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return self.refuse
        login = session.auth_data
        with self.lock:
            self.messages.append(
                ReceivedMail(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=bytes(envelope.original_content or b""),
                    login=login.decode() if isinstance(login, bytes) else login,
                )
            )
        return "250 2.0.0 OK"


def _authenticator(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    # handled=False makes aiosmtpd answer 535 itself; its default (True) sends nothing.
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer("127.0.0.1", free_port())
    controller = Controller(
        server,
        hostname=server.host,
        port=server.port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_required=False,
        decode_data=False,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
