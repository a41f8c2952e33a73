"""`yijian serve` refuses what is unsafe to serve: the public dev secret off loopback, and
trusting every client's X-Forwarded-For; the rate-limit key is the proxy's word only."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx2 as httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from app.core.config import Settings
from tests.conftest import ROOT, LiveServer, fresh_database_url, run_cli, server_env
from tests.servers.dovecot import free_port


def without_secret(env: dict[str, str]) -> dict[str, str]:
    """A plain install: YIJIAN_ENV and YIJIAN_SECRET_KEY left unset."""
    return {k: v for k, v in env.items() if k not in {"YIJIAN_ENV", "YIJIAN_SECRET_KEY"}}


def serve(env: dict[str, str], host: str) -> tuple[int, str]:
    # On the old code these started a server; the timeout then fails the test.
    done = run_cli(env, "serve", "--host", host, "--port", str(free_port()), timeout=30)
    return done.returncode, done.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "yijian.example.edu.cn"])
def test_the_dev_secret_is_refused_off_loopback(
    host: str, database_url: str
) -> None:
    code, stderr = serve(without_secret(server_env(database_url)), host)
    assert code == 2, stderr
    assert "YIJIAN_SECRET_KEY" in stderr and "拒绝" in stderr and "Refusing" in stderr
    if host == "0.0.0.0":
        short = server_env(database_url, YIJIAN_ENV="dev", YIJIAN_SECRET_KEY="short")
        assert serve(short, host)[0] == 2


def test_the_dev_secret_on_loopback_starts_with_a_loud_warning(
    database_url: str, engine: Engine, demo: None, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    server = LiveServer(without_secret(server_env(database_url)), log)
    server.stop()
    warning = [line for line in log.read_text().splitlines() if "YIJIAN_SECRET_KEY" in line]
    assert len(warning) == 1 and "WARNING" in warning[0] and "公开的开发密钥" in warning[0]


def test_a_database_not_upgraded_is_refused_in_plain_words(tmp_path: Path) -> None:
    # Start-up reads the tagger's model and every item: a traceback used to say so.
    env = server_env(fresh_database_url(tmp_path))
    code, stderr = serve(env, "127.0.0.1")
    assert code == 2, stderr
    assert "yijian db upgrade" in stderr and "数据库结构不是最新" in stderr
    assert "Traceback" not in stderr


def test_trusting_every_forwarded_header_is_refused(database_url: str) -> None:
    env = server_env(database_url, YIJIAN_FORWARDED_ALLOW_IPS="127.0.0.1, *")
    code, stderr = serve(env, "127.0.0.1")
    assert code == 2 and "YIJIAN_FORWARDED_ALLOW_IPS" in stderr and "X-Forwarded-For" in stderr


def test_a_mistyped_proxy_address_is_refused() -> None:
    # uvicorn would take each of these as a literal that never matches, silently.
    for typo in ("10.0.0.300", "10.0.0.1/8", "proxy.local"):
        with pytest.raises(ValidationError, match="not an IP address"):
            Settings(_env_file=None, forwarded_allow_ips=typo)
    proxies = "127.0.0.1, 172.16.0.0/12, ::1"
    assert Settings(_env_file=None, forwarded_allow_ips=proxies).forwarded_allow_ips == proxies


def test_a_forged_forwarded_header_does_not_escape_the_limit(
    database_url: str, engine: Engine, demo: None, tmp_path: Path
) -> None:
    env = server_env(database_url, YIJIAN_RATE_LIMIT="5/min")
    server = LiveServer(env, tmp_path / "server.log")  # the default: trust 127.0.0.1 only

    def submit(client: httpx.Client, forwarded_for: str) -> int:
        body = {"text": "食堂的饭菜太咸了。", "idempotency_key": uuid.uuid4().hex}
        r = client.post(
            f"{server.url}/api/v1/units/demo/submissions",
            json=body,
            headers={"X-Forwarded-For": forwarded_for},
        )
        return r.status_code

    def forged() -> str:
        return f"198.51.100.{uuid.uuid4().int % 250 + 1}"

    try:
        # A client that is not the proxy (another loopback address) makes up a header each time.
        direct = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        with direct:
            assert [submit(direct, forged()) for _ in range(6)] == [201] * 5 + [429]
        # From the trusted proxy, the header names the client: six clients, one request each.
        with httpx.Client() as proxy:
            assert [submit(proxy, f"203.0.113.{n}") for n in range(6)] == [201] * 6
            assert [submit(proxy, "203.0.113.77") for _ in range(6)] == [201] * 5 + [429]
    finally:
        server.stop()


def test_the_documented_proxy_configurations_name_the_client_themselves() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # nginx must replace the client's header, not append to it; and nobody trusts "*".
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" not in readme
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in readme
    assert not re.search(r"FORWARDED_ALLOW_IPS=\*", readme)
    assert "trusted_proxies" in readme and "/idea/" in readme
