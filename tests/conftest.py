"""Fixtures: a migrated database (SQLite, or PostgreSQL when YIJIAN_TEST_DATABASE_URL is set),
the app, a live server process, and headless Chromium."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2 as httpx
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session, SQLModel

from app.cli import alembic_config
from app.core import crypto
from app.core.config import Settings
from app.core.db import make_engine, session_scope
from app.mail.outbound import SmtpMailSender
from app.main import create_app
from app.units.service import ensure_demo

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytest_plugins = ["tests.servers.dovecot", "tests.servers.smtp", "tests.documents_fixtures"]
pytest.register_assert_rewrite("tests.servers")
# After the rewrite hook:
from tests.servers.dovecot import free_port  # noqa: E402
from tests.servers.smtp import SmtpServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# Real-world messages, beside the checkout, never inside it (see ../shared/mail/README.md).
FLANKER = SHARED / "mail" / "flanker"
TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"
# Every test process and child encrypts with this key (app/core/crypto.py).
TEST_DATA_KEY = "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE="
os.environ["YIJIAN_DATA_KEY"] = TEST_DATA_KEY
crypto.install(crypto.Keyring.from_text([TEST_DATA_KEY]))
PG_URL = os.environ.get("YIJIAN_TEST_DATABASE_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The PostgreSQL pass re-runs only what touches the database.
    if not PG_URL:
        return
    keep = [i for i in items if "database_url" in getattr(i, "fixturenames", ())]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def fresh_database_url(tmp: Path) -> str:
    """An empty database: a new SQLite file, or a new database on the test PostgreSQL."""
    if not PG_URL:
        return f"sqlite:///{tmp / f'yijian-{uuid.uuid4().hex[:8]}.db'}"
    name = f"yijian_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = fresh_database_url(tmp_path_factory.mktemp("db"))
    migrate(url)
    return url


def clear_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    clear_tables(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


@pytest.fixture
def demo(engine: Engine) -> None:
    with session_scope(engine) as s:
        ensure_demo(s)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "secret_key": TEST_SECRET,
        "data_key": TEST_DATA_KEY,
        "database_url": database_url,
        "rate_limit": "off",
        "receipt_lookup_limit": "off",
        "_env_file": None,
        # A writer process per test app would add its start-up (about a second) to every
        # test; tests/test_writer_process.py and the live servers run the real thing.
        "writer_process": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


class LiveServer:
    """`yijian serve` in a child process, as operators run it."""

    def __init__(
        self, env: dict[str, str], log_path: Path, workers: int = 1, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group, so kill() reaches uvicorn's worker processes too.
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(log_path.read_text(errors="replace"))
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start: " + log_path.read_text(errors="replace"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def kill(self) -> None:
        """SIGKILL the whole process group, as a power cut or the OOM killer would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._log.close()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIJIAN_")}
    env.update(
        {
            "YIJIAN_ENV": "test",
            "YIJIAN_SECRET_KEY": TEST_SECRET,
            "YIJIAN_DATA_KEY": TEST_DATA_KEY,
            "YIJIAN_DATABASE_URL": database_url,
            "YIJIAN_RATE_LIMIT": "off",
            "YIJIAN_RECEIPT_LOOKUP_LIMIT": "off",
        }
    )
    env.update(extra)
    return env


def smtp_env(smtp: SmtpServer, *, mail_from: str) -> dict[str, str]:
    """The variables that send a server's mail through the test SMTP server."""
    return {
        "YIJIAN_SMTP_HOST": smtp.host,
        "YIJIAN_SMTP_PORT": str(smtp.port),
        "YIJIAN_SMTP_SECURITY": "none",
        "YIJIAN_MAIL_FROM": mail_from,
    }


def digest_env(database_url: str, smtp: SmtpServer) -> dict[str, str]:
    """server_env for a digest to office@bureau.test through the test SMTP server."""
    return server_env(
        database_url,
        **smtp_env(smtp, mail_from="yijian@bureau.test"),
        YIJIAN_DIGEST_TO="office@bureau.test",
    )


def run_cli(
    env: dict[str, str],
    *args: str,
    crash_at: str | None = None,
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`yijian ARGS` in a child process, as operators run it; with crash_at, killed (SIGKILL)
    at that checkpoint (tests/crash.py)."""
    entry = ["tests.crash", crash_at] if crash_at else ["app"]
    return subprocess.run(
        [sys.executable, "-m", *entry, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def smtp_sender(smtp: SmtpServer) -> SmtpMailSender:
    """The app's SMTP sender, pointed at the test server."""
    return SmtpMailSender(smtp.host, smtp.port, "none", timeout=10)


@pytest.fixture
def flanker() -> Path:
    """The folder of real-world messages; the test is skipped where it is missing."""
    if not FLANKER.is_dir():
        pytest.skip(f"real-mail fixtures not found at {FLANKER} (shared/mail beside the repo)")
    return FLANKER


@pytest.fixture
def live_server(
    database_url: str, engine: Engine, demo: None, tmp_path: Path
) -> Iterator[LiveServer]:
    server = LiveServer(server_env(database_url), tmp_path / "server.log")
    yield server
    server.stop()


# Module scope: Playwright's sync API keeps an event loop running while it is alive, which
# would break later tests that run their own asyncio loop.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian chromium is not installed (scripts/system-deps.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(chromium),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()
