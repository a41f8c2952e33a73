import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.helpers import signed_in_admin


@pytest.fixture
def chief(client: TestClient, demo: None, engine: Engine) -> str:
    """A bureau admin "chief" signed in on the client; the page's CSRF token."""
    return signed_in_admin(client, engine)
