"""Settings from the environment (prefix YIJIAN_), validated once at start-up."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.mail.security import Security

# The placeholder we refuse outside dev (see _no_default_secret_outside_dev).
DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105  # nosec B105

_RATE = re.compile(r"^(\d+)/(\d*)(s|sec|min|m|h|hour)$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIJIAN_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    secret_key: str = DEV_SECRET
    database_url: str = "sqlite:///var/yijian.db"
    data_dir: Path = Path("var")
    base_url: str = "http://127.0.0.1:8000"
    rate_limit: str = "30/10min"
    receipt_lookup_limit: str = "20/10min"
    forwarded_allow_ips: str = "127.0.0.1"
    max_text_chars: int = 5000
    max_upload_mb: int = 10
    max_files: int = 3
    writer_batch: int = 128
    writer_process: bool = True
    log_level: str = "INFO"
    tagger: str = "ngram"
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    login_max_failures: int = 5
    login_lock_minutes: int = 15

    imap_host: str | None = None
    imap_port: int = 993
    imap_security: Security = "ssl"
    imap_user: str | None = None
    imap_password: str | None = None
    imap_folder: str = "INBOX"
    imap_unit: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 465
    smtp_security: Security = "ssl"
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str | None = None
    digest_to: str | None = None
    poll_seconds: int = 60
    reminder_days: int = 3

    @field_validator("rate_limit", "receipt_lookup_limit")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        if value != "off" and not _RATE.match(value.strip()):
            raise ValueError("rate limit must look like 30/10min, 5/s, 100/h, or be 'off'")
        return value.strip()

    @model_validator(mode="after")
    def _no_default_secret_outside_dev(self) -> Settings:
        # A known key lets anyone recompute receipt hashes: refuse it except on a dev machine.
        if self.env != "dev" and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError("YIJIAN_SECRET_KEY must be set to a random value of 32+ characters")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def model_dir(self) -> Path:
        """Where retrained tagger models go; every process follows the newest one."""
        return self.data_dir / "models"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def rate(self, spec: str) -> tuple[int, int] | None:
        """Parse a limit such as 30/10min into (count, seconds); None when off."""
        if spec == "off":
            return None
        m = _RATE.match(spec)
        assert m is not None
        count, mult, unit = int(m.group(1)), int(m.group(2) or 1), m.group(3)
        seconds = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}[unit]
        return count, mult * seconds


@lru_cache
def get_settings() -> Settings:
    return Settings()
