from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.campaign.service import IntakeState, get_intake_state
from app.core.db import make_engine


@pytest.fixture
def demo_state(engine: Engine, demo: None) -> IntakeState:
    with Session(engine) as s:
        return get_intake_state(s, slug="demo")


@pytest.fixture
def write_engine(database_url: str) -> Iterator[Engine]:
    """The engine the app's writer uses (on SQLite, BEGIN IMMEDIATE)."""
    eng = make_engine(database_url, immediate=True)
    yield eng
    eng.dispose()
