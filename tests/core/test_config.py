import pytest
from pydantic import ValidationError

from app.core.config import DEV_SECRET, Settings


def test_default_secret_is_refused_outside_dev() -> None:
    with pytest.raises(ValidationError, match="YIJIAN_SECRET_KEY"):
        Settings(env="prod", secret_key=DEV_SECRET, _env_file=None)  # type: ignore[call-arg]
    Settings(env="dev", _env_file=None)  # type: ignore[call-arg]


def test_rate_limit_syntax() -> None:
    s = Settings(rate_limit="30/10min", _env_file=None)  # type: ignore[call-arg]
    assert s.rate(s.rate_limit) == (30, 600)
    assert s.rate("off") is None
    with pytest.raises(ValidationError):
        Settings(rate_limit="lots", _env_file=None)  # type: ignore[call-arg]
