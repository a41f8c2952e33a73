from __future__ import annotations

from pathlib import Path

import pytest

# pytest only honours `pytest_plugins` in the top-level conftest, which belongs to the
# integrator (it should list "tests.servers.dovecot" and "tests.servers.smtp"); importing the
# fixtures makes them available to this directory meanwhile.
from tests.servers.dovecot import dovecot  # noqa: F401
from tests.servers.smtp import smtp_server  # noqa: F401

# Real-world fixtures live beside the checkout, never inside it (see ../shared/mail/README.md).
SHARED_MAIL = Path(__file__).resolve().parents[2].parent / "shared" / "mail"
FLANKER = SHARED_MAIL / "flanker"


@pytest.fixture
def flanker() -> Path:
    if not FLANKER.is_dir():
        pytest.skip(f"real-mail fixtures not found at {FLANKER} (shared/mail beside the repo)")
    return FLANKER
