from __future__ import annotations

from pathlib import Path

import pytest

from app.tagging import Tagger, load_tagger

REPO = Path(__file__).resolve().parents[2]
DEV_SET = REPO.parent / "shared" / "data" / "tagging-dev.jsonl"
HOLDOUT = Path(__file__).parent / "holdout.jsonl"


@pytest.fixture(scope="session")
def tagger() -> Tagger:
    return load_tagger()
