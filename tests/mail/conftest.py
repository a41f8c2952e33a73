from __future__ import annotations

from pathlib import Path

import pytest

# Real-world fixtures live beside the checkout, never inside it (see ../shared/mail/README.md).
SHARED_MAIL = Path(__file__).resolve().parents[2].parent / "shared" / "mail"
FLANKER = SHARED_MAIL / "flanker"


@pytest.fixture
def flanker() -> Path:
    if not FLANKER.is_dir():
        pytest.skip(f"real-mail fixtures not found at {FLANKER} (shared/mail beside the repo)")
    return FLANKER
