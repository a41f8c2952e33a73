"""`yijian backup` and `yijian restore`: a restored database equals the original, row for row."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, create_engine, select
from sqlmodel import SQLModel

from app.backup.service import count_rows
from tests.conftest import fresh_database_url, migrate, run_cli, server_env


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: [
                tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).all()
            ]
            for t in SQLModel.metadata.sorted_tables
        }


def test_backup_then_restore_into_a_new_database(
    client: TestClient, engine: Engine, demo: None, database_url: str, tmp_path: Path
) -> None:
    for n in range(5):
        r = client.post(
            "/api/v1/units/demo/submissions",
            json={"text": f"第{n}条：食堂饭菜太咸。", "idempotency_key": f"bk-{n}-key"},
        )
        assert r.status_code == 201, r.text
    r = client.post(
        "/u/demo",
        data={"text": "操场的灯坏了，附照片。", "role": "教职工", "anonymous": "1"},
        files={"files": ("灯.png", _png(), "image/png")},
    )
    assert r.status_code == 200, r.text
    before = contents(engine)
    assert len(before["submission"]) == 6 and len(before["attachment"]) == 1

    out = tmp_path / "nightly" / "yijian.backup"
    made = run_cli(server_env(database_url), "backup", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert out.is_file() and not out.with_name(out.name + ".partial").exists()

    target = fresh_database_url(tmp_path)
    migrate(target)  # an empty, migrated database, as `yijian db upgrade` leaves it
    env = server_env(target)
    restored = run_cli(env, "restore", str(out))
    assert restored.returncode == 0, restored.stderr
    copy = create_engine(target)
    try:
        assert count_rows(copy) == count_rows(engine)
        assert contents(copy) == before

        # Now it holds data: a second restore needs --force, and then leaves the same content.
        refused = run_cli(env, "restore", str(out))
        assert refused.returncode == 2 and "--force" in refused.stderr
        forced = run_cli(env, "restore", str(out), "--force")
        assert forced.returncode == 0, forced.stderr
        assert contents(copy) == before
    finally:
        copy.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    done = run_cli(server_env(database_url), "restore", str(junk))
    assert done.returncode == 2 and "备份文件" in done.stderr
    missing = run_cli(server_env(database_url), "restore", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "不存在" in missing.stderr


def test_backups_are_readable_by_their_owner_only(
    database_url: str, engine: Engine, demo: None, tmp_path: Path
) -> None:
    # A backup holds the mailboxes' app passwords: 0600 even under the usual umask 022.
    out = tmp_path / "yijian.backup"
    out.with_name(out.name + ".partial").write_bytes(b"left by a crashed run")
    old = os.umask(0o022)
    try:
        made = run_cli(server_env(database_url), "backup", "--out", str(out))
    finally:
        os.umask(old)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
