from __future__ import annotations

import pytest

from app.tagging import Tagger, load_tagger


@pytest.fixture(scope="session")
def tagger() -> Tagger:
    return load_tagger()
