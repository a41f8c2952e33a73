"""The API against its own OpenAPI schema, with schemathesis and all of its checks: no 500,
every response matches its declared schema, and the schema accepts what the code accepts."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy import Engine

from app.main import create_app
from tests.conftest import make_settings

EXAMPLES = 40  # per operation and mode (valid, invalid): a few hundred requests in all


@pytest.fixture
def api_app(database_url: str, engine: Engine, demo: None, tmp_path: Path) -> Iterator[FastAPI]:
    yield create_app(make_settings(database_url, tmp_path))
    shutdown_lifespans()  # stops the writer thread of this app


def test_api_matches_its_schema(api_app: FastAPI) -> None:
    # The Python API rather than schemathesis' pytest plugin, whose fixture loader does not
    # work with this pytest; hypothesis still shrinks and reports the failing case.
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert "POST /api/v1/units/{slug}/submissions" in labels
    assert "GET /api/v1/receipts/{receipt}" in labels
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(mode))
        @hsettings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate()

        try:
            check()
        except Unsatisfiable:
            # Nothing to make invalid in an operation without inputs (GET /healthz).
            assert mode is GenerationMode.NEGATIVE and not operation.path_parameters
