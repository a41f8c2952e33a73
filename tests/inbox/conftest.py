"""Settings for email intake tests: our own address and a public base URL for the acks."""

from __future__ import annotations

import pytest

from app.core.config import Settings
from tests.conftest import make_settings
from tests.inbox.support import OUR_ADDRESS


@pytest.fixture
def mail_settings(database_url: str) -> Settings:
    return make_settings(
        database_url, mail_from=OUR_ADDRESS, base_url="https://yijian.example"
    )
