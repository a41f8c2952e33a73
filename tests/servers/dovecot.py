"""A throwaway Dovecot IMAP server for tests (pytest plugin: list it in `pytest_plugins`).

Fixture `dovecot` gives a fresh server per test with one user, inbox@school.test / secret,
listening on a free loopback port without TLS. Skips when Dovecot is not installed
(`apt-get install -y --no-install-recommends dovecot-imapd`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

LDA = "/usr/lib/dovecot/dovecot-lda"
USER = "inbox@school.test"
PASSWORD = "secret"
# Mail processes cannot run as root; nobody/nogroup exists on every Debian machine.
MAIL_UID = 65534


def free_port() -> int:
    """A loopback port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _config_23(base: Path, port: int) -> str:
    return f"""\
base_dir = {base}/run
state_dir = {base}/state
instance_name = yijian-test-{port}
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_uid = {MAIL_UID}
mail_gid = {MAIL_UID}
mail_location = maildir:{base}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = home={base}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  imap_id_log = *
}}
"""


def _config_24(base: Path, port: int) -> str:
    # Dovecot 2.4 renamed most settings; this is the same instance in its syntax.
    return f"""\
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
base_dir = {base}/run
state_dir = {base}/state
instance_name = yijian-test-{port}
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
first_valid_uid = 1
mail_uid = {MAIL_UID}
mail_gid = {MAIL_UID}
mail_driver = maildir
mail_path = {base}/mail/%{{user | username}}
mail_home = {base}/mail/%{{user | username}}
passdb passwd-file {{
  passwd_file_path = {base}/users
  default_password_scheme = PLAIN
}}
userdb static {{
}}
service imap-login {{
  inet_listener imap {{
    listen = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
imap_id_log = *
"""


def dovecot_version() -> tuple[int, int] | None:
    exe = shutil.which("dovecot")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    major, minor = out.split()[0].split(".")[:2]
    return int(major), int(minor)


@dataclass
class DovecotServer:
    host: str
    port: int
    user: str
    password: str
    base: Path
    config: Path

    def deliver(self, raw: bytes, sender: str = "sender@example.test") -> None:
        """Deliver bytes unchanged to the user's INBOX with dovecot-lda, as an MTA would."""
        subprocess.run(
            [LDA, "-c", str(self.config), "-d", self.user, "-f", sender],
            input=raw,
            check=True,
            capture_output=True,
            timeout=30,
        )

    def flags(self) -> dict[int, set[str]]:
        """UID -> flags of INBOX, read with doveadm, independent of the code under test."""
        out = subprocess.run(
            [
                "doveadm",
                "-c",
                str(self.config),
                "fetch",
                "-u",
                self.user,
                "uid flags",
                "mailbox",
                "INBOX",
                "ALL",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        result: dict[int, set[str]] = {}
        uid: int | None = None
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key == "uid":
                uid = int(value)
            elif key == "flags" and uid is not None:
                result[uid] = set(value.split())
        return result

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _wait_for_banner(port: int, proc: subprocess.Popen[bytes], base: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {(base / 'dovecot.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dovecot did not answer within 15 s")


@contextmanager
def running_dovecot() -> Iterator[DovecotServer]:
    """A fresh Dovecot for as long as the block runs (root and dovecot-imapd needed)."""
    version = dovecot_version()
    assert version is not None, "dovecot is not installed"
    base = Path(tempfile.mkdtemp(prefix="yijian-dovecot-"))
    # The auth process runs as the dovecot user and must read base/users.
    base.chmod(0o755)
    for sub in ("mail", "run", "state"):
        (base / sub).mkdir()
    os.chown(base / "mail", MAIL_UID, MAIL_UID)
    (base / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    config = base / "dovecot.conf"
    config.write_text(_config_24(base, port) if version >= (2, 4) else _config_23(base, port))
    proc = subprocess.Popen(
        ["dovecot", "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_banner(port, proc, base)
        yield DovecotServer("127.0.0.1", port, USER, PASSWORD, base, config)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    if dovecot_version() is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("the throwaway dovecot needs root (it switches to uid 65534 for mail)")
    with running_dovecot() as server:
        yield server
