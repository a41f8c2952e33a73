from __future__ import annotations

import pytest

from app.core.config import Settings
from tests.conftest import make_settings
from tests.servers.smtp import SmtpServer


@pytest.fixture
def digest_settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    """A digest to two bureau addresses, sent through the test SMTP server."""
    return make_settings(
        database_url, digest_to="office@bureau.test, head@bureau.test",
        mail_from="yijian@bureau.test", base_url="https://yijian.example",
        smtp_host=smtp_server.host, smtp_port=smtp_server.port, smtp_security="none",
    )
