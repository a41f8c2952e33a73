"""Backups of the whole database: SQLite's online backup API, or pg_dump for PostgreSQL.

subprocess runs only pg_dump/pg_restore with an argv built here, never a shell.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlmodel import SQLModel

from app.core import crypto
from app.core.crypto import Keyring
from app.core.errors import Conflict, Invalid, Unavailable

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    kind: str  # "sqlite" or "pg_dump"
    encrypted: bool


def _owner_only(path: Path) -> None:
    # Owner-only from the first byte, whatever the umask: a backup holds what the database holds.
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise Invalid("内存数据库无法备份或恢复。")
    return Path(url.database)


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    # The password goes through the environment, never the command line (visible in ps).
    args = ["--dbname", str(url.database or "postgres")]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise Unavailable(f"找不到 {name}：请安装 PostgreSQL 客户端（postgresql-client）。")
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    # The argv is built here from the configured URL (no shell); nothing comes from users.
    done = subprocess.run(  # noqa: S603  # nosec B603
        cmd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise Unavailable(f"{Path(cmd[0]).name} 失败：{done.stderr.strip()[:500]}")


def backup_database(*, database_url: str, out: Path, keyring: Keyring | None) -> BackupInfo:
    """Write a consistent copy of the database to out, while the service keeps running;
    encrypted with the keyring's current key unless keyring is None."""
    url = make_url(database_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    # SQLite and pg_dump both write into the file that is already there, keeping its mode.
    _owner_only(partial)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(partial)
        try:
            # The backup API copies a consistent snapshot page by page; WAL readers do not
            # block the writer, so intake goes on meanwhile.
            source.backup(target)
        finally:
            target.close()
            source.close()
        kind = "sqlite"
    elif url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        _run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), *args], env
        )
        kind = "pg_dump"
    else:
        raise Invalid(f"不支持的数据库类型：{url.get_backend_name()}")
    if keyring is not None:
        sealed = out.with_name(out.name + ".sealed")
        _owner_only(sealed)
        with partial.open("rb") as plain, sealed.open("r+b") as sink:
            crypto.encrypt_file(keyring, plain, sink)
        partial.unlink()
        sealed.replace(partial)
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    # Renamed only when complete: a half-written file never carries the final name.
    partial.replace(out)
    return BackupInfo(
        path=out, size=out.stat().st_size, kind=kind, encrypted=keyring is not None
    )


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows per application table (the tables that exist)."""
    present = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in present:
                counts[table.name] = int(
                    conn.execute(select(func.count()).select_from(table)).scalar_one()
                )
    return counts


def restore_database(
    *, engine: Engine, database_url: str, source: Path, force: bool, keyring: Keyring | None
) -> None:
    """Replace the configured database with a backup, plain or encrypted (then opened with
    keyring); refuses a database holding data unless force."""
    if not source.is_file():
        raise Invalid(f"备份文件不存在：{source}")
    if not force and any(count_rows(engine).values()):
        raise Conflict("目标数据库里已有数据；确认要覆盖，请加 --force。")
    with source.open("rb") as handle:
        encrypted = crypto.is_encrypted_file(handle.read(len(crypto.FILE_MAGIC)))
    if not encrypted:
        _restore_plain(engine=engine, database_url=database_url, source=source)
        return
    if keyring is None:
        raise Invalid("这是加密的备份：请设置写入它的数据密钥（YIJIAN_DATA_KEY）。")
    with tempfile.TemporaryDirectory(prefix="yijian-restore-") as folder:
        plain = Path(folder) / "plain"
        _owner_only(plain)
        with source.open("rb") as sealed, plain.open("r+b") as target:
            try:
                crypto.decrypt_file(keyring, sealed, target)
            except crypto.DataKeyError as exc:
                raise Invalid(str(exc)) from None
        _restore_plain(engine=engine, database_url=database_url, source=plain)


def _restore_plain(*, engine: Engine, database_url: str, source: Path) -> None:
    head = source.open("rb").read(16)
    url = make_url(database_url)
    engine.dispose()
    if url.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise Invalid("这不是 SQLite 备份文件。")
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(path)
        try:
            # Copying into the live file through the API (not over it) keeps its WAL coherent.
            backup.backup(target)
        finally:
            target.close()
            backup.close()
    elif url.get_backend_name() == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise Invalid("这不是 pg_dump（-Fc）备份文件。")
        args, env = _pg_args(url)
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                *args,
                str(source),
            ],
            env,
        )
    else:
        raise Invalid(f"不支持的数据库类型：{url.get_backend_name()}")
