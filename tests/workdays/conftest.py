from collections.abc import Iterator

import pytest

from app.workdays.service import use_overrides


@pytest.fixture(autouse=True)
def official_calendar() -> Iterator[None]:
    """Each test starts and ends on the official calendar: the overrides live per process."""
    use_overrides({})
    yield
    use_overrides({})
