"""Backups encrypted with the data key: nothing readable in the file, restored with the key only."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import Engine, create_engine

from app.backup.service import SQLITE_MAGIC
from app.core import crypto
from tests.backup.test_backup import contents
from tests.conftest import fresh_database_url, migrate, run_cli, server_env
from tests.core.test_crypto import CLEAR, MARKERS, fill_every_encrypted_column, found


def test_encrypted_backup_restores_only_with_the_key(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    fill_every_encrypted_column(engine)
    before = contents(engine)
    out = tmp_path / "yijian.backup"
    made = run_cli(server_env(database_url), "backup", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "已用数据密钥加密" in made.stdout
    data = out.read_bytes()
    assert crypto.is_encrypted_file(data) and SQLITE_MAGIC not in data
    assert not found(data, CLEAR) and not any(found(data, m) for m in MARKERS.values())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    target = fresh_database_url(tmp_path)
    migrate(target)
    other_key = server_env(target, YIJIAN_DATA_KEY=crypto.generate_key())
    refused = run_cli(other_key, "restore", str(out))
    assert refused.returncode == 2 and "数据密钥" in refused.stderr
    restored = run_cli(server_env(target), "restore", str(out))
    assert restored.returncode == 0, restored.stderr
    copy = create_engine(target)
    try:
        assert contents(copy) == before
    finally:
        copy.dispose()


def test_plain_backup_warns_and_still_restores(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    fill_every_encrypted_column(engine)
    before = contents(engine)
    out = tmp_path / "plain.backup"
    made = run_cli(server_env(database_url), "backup", "--out", str(out), "--plain")
    assert made.returncode == 0, made.stderr
    assert "未加密" in made.stderr
    assert not crypto.is_encrypted_file(out.read_bytes())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    target = fresh_database_url(tmp_path)
    migrate(target)
    restored = run_cli(server_env(target), "restore", str(out))
    assert restored.returncode == 0, restored.stderr
    copy = create_engine(target)
    try:
        assert contents(copy) == before
    finally:
        copy.dispose()
