"""Shared column helpers: the UTC clock, the UTC datetime column type and day numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no offset, so both databases agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class day_number(FunctionElement[int]):
    """A stored day or naive-UTC time as the number of its day (date.toordinal(); for a time,
    its local day in Asia/Shanghai), 0 for NULL, in SQL: numbers cost the stats page's
    in-memory columns nothing to read. China has kept UTC+8 without daylight saving since
    1991."""

    type = Integer()
    name = "day_number"
    inherit_cache = True


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    local = ", '+8 hours'" if isinstance(column.type, UTCDateTime) else ""
    value = f"julianday({compiler.process(column, **kw)}{local})"
    # julianday() of 0001-01-01 00:00 is 1721425.5; CAST truncates, as floor for these.
    return f"coalesce(CAST({value} - 1721424.5 AS INTEGER), 0)"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    value = compiler.process(column, **kw)
    if isinstance(column.type, UTCDateTime):
        value = f"({value} + interval '8 hours')::date"
    return f"coalesce(({value} - DATE '0001-01-01' + 1), 0)"
