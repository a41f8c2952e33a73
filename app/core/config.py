"""Settings from the environment (prefix YIJIAN_), validated once at start-up."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.crypto import DataKeyError, Keyring, dev_key_path, ensure_dev_key, read_key_file
from app.core.errors import Invalid
from app.mail.security import Security

# The placeholder we refuse outside dev (see _no_default_secret_outside_dev).
DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105  # nosec B105

_RATE = re.compile(r"^(\d+)/(\d*)(s|sec|min|m|h|hour)$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIJIAN_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    secret_key: str = DEV_SECRET
    database_url: str = "sqlite:///var/yijian.db"
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
    login_account_limit: str = "50/h"

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
    alert_to: str | None = None
    group_alert_min: int = Field(default=10, ge=2, le=100_000)
    group_alert_hours: int = Field(default=24, ge=1, le=24 * 30)
    poll_seconds: int = 60
    reminder_days: int = 3
    # Encryption at rest (app/core/crypto.py): the current key and keys still to be read.
    data_key: str | None = None
    data_key_file: Path | None = None
    data_key_old: str = ""

    @field_validator("rate_limit", "receipt_lookup_limit", "login_account_limit")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        if value != "off" and not _RATE.match(value.strip()):
            raise ValueError("rate limit must look like 30/10min, 5/s, 100/h, or be 'off'")
        return value.strip()

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        # uvicorn silently treats a mistyped entry, or a network with host bits set
        # (10.0.0.1/8), as a literal that never matches; parse each the way it does.
        for entry in _entries(value):
            if entry != "*":
                try:
                    ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
                except ValueError as exc:
                    raise ValueError(f"not an IP address or network: {entry!r}") from exc
        return value

    @model_validator(mode="after")
    def _no_default_secret_outside_dev(self) -> Settings:
        # A known key lets anyone recompute receipt hashes: refuse it except on a dev machine.
        if self.env != "dev" and self.weak_secret:
            raise ValueError("YIJIAN_SECRET_KEY must be set to a random value of 32+ characters")
        return self

    @model_validator(mode="after")
    def _data_key_outside_dev(self) -> Settings:
        # Without a key kept apart from the database, a dump would hold names in clear.
        if self.env == "prod" and not self.has_data_key:
            raise ValueError("YIJIAN_DATA_KEY or YIJIAN_DATA_KEY_FILE must be set in prod")
        return self

    @property
    def has_data_key(self) -> bool:
        return bool(self.data_key or self.data_key_file)

    def keyring(self) -> Keyring:
        """The data keys: configured, or in dev the generated key file (DataKeyError)."""
        if self.data_key:
            return Keyring.from_text([self.data_key, *self.data_key_old.split(",")])
        if self.data_key_file:
            return Keyring.from_text(read_key_file(self.data_key_file))
        if self.env == "dev":
            return Keyring.from_text(ensure_dev_key(dev_key_path(self.database_url)))
        raise DataKeyError(
            "未设置数据密钥：请设置 YIJIAN_DATA_KEY 或 YIJIAN_DATA_KEY_FILE（见 README）。"
            "/ No data key: set YIJIAN_DATA_KEY or YIJIAN_DATA_KEY_FILE."
        )

    @property
    def weak_secret(self) -> bool:
        return self.secret_key == DEV_SECRET or len(self.secret_key) < 32

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

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


def _entries(value: str) -> list[str]:
    return [e.strip() for e in value.split(",") if e.strip()]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_serve(settings: Settings, *, host: str) -> list[str]:
    """Refuse settings unsafe for a server listening on host (Invalid); returns warnings."""
    if "*" in _entries(settings.forwarded_allow_ips):
        raise Invalid(
            "YIJIAN_FORWARDED_ALLOW_IPS 不能是 *：那样任何客户端都能用伪造的 X-Forwarded-For "
            "绕过频率限制。请只填反向代理自己的地址（本机代理 127.0.0.1；docker compose "
            "172.16.0.0/12），见 README 的部署一节。\n"
            "YIJIAN_FORWARDED_ALLOW_IPS=* lets any client forge X-Forwarded-For and escape every "
            "rate limit: list only the reverse proxy's own address or network."
        )
    load_keyring(settings)
    if not settings.has_data_key and not _is_loopback(host):
        raise Invalid(
            f"拒绝在 {host} 上不带数据密钥启动：请设置 YIJIAN_DATA_KEY 或 YIJIAN_DATA_KEY_FILE"
            "（`yijian keys new` 生成），并把它和数据库、备份分开保存。\n"
            f"Refusing to listen on {host} without a data key: set YIJIAN_DATA_KEY or "
            "YIJIAN_DATA_KEY_FILE and keep it apart from the database and its backups."
        )
    if not settings.weak_secret:
        return []
    if not _is_loopback(host):
        raise Invalid(
            f"拒绝在 {host} 上用公开的开发密钥（或过短的密钥）启动："
            "请把 YIJIAN_SECRET_KEY 设为 32 位以上的随机字符串"
            "（python3 -c 'import secrets; print(secrets.token_urlsafe(48))'），"
            "启用后不要再改。\n"
            f"Refusing to listen on {host} with the public development (or a short) secret "
            "key: set YIJIAN_SECRET_KEY to 32+ random characters."
        )
    return [
        "YIJIAN_SECRET_KEY 是公开的开发密钥（或过短），只可在本机试用，不可用于真实数据。"
        " / YIJIAN_SECRET_KEY is the public development key (or too short): this machine only, "
        "never for real data (receipt and code hashes can be recomputed from a dump)."
    ]


def load_keyring(settings: Settings) -> Keyring:
    """The settings' data keys; a missing or malformed key is the operator's error (Invalid)."""
    try:
        return settings.keyring()
    except DataKeyError as exc:
        raise Invalid(str(exc)) from None


@lru_cache
def get_settings() -> Settings:
    return Settings()
