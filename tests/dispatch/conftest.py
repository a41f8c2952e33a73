from tests.workdays.conftest import official_calendar

__all__ = ["official_calendar"]
