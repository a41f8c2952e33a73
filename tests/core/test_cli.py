import csv
import io
import json
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.accounts.service import verify_password
from app.models import AdminUser
from tests.conftest import run_cli, server_env


def test_cli_flow(database_url: str, engine: Engine) -> None:
    env = server_env(database_url)
    first = run_cli(env, "demo")
    assert first.returncode == 0 and "密码" in first.stdout
    again = run_cli(env, "demo")
    assert again.returncode == 0 and "yijian admin password --username" in again.stdout
    added = run_cli(env, "unit", "add", "--slug", "town-1", "--name", "故县镇第一初级中学")
    assert added.returncode == 0, added.stderr
    dup = run_cli(env, "unit", "add", "--slug", "town-1", "--name", "again")
    assert dup.returncode == 2 and "已被使用" in dup.stderr
    assert (
        run_cli(
            env,
            "admin",
            "create",
            "--username",
            "clerk",
            "--password",
            "long-password-1",
            "--unit",
            "town-1",
        ).returncode
        == 0
    )
    short = run_cli(env, "admin", "create", "--username", "x", "--password", "short", "--bureau")
    assert short.returncode == 2 and "密码至少" in short.stderr
    # A forgotten password: the operator resets it, and the new one works.
    reset = run_cli(env, "admin", "password", "--username", "clerk")
    assert reset.returncode == 0 and "只显示这一次" in reset.stdout, reset.stderr
    new = reset.stdout.rsplit("：", 1)[1].split("（")[0]
    with Session(engine) as s:
        user = s.exec(select(AdminUser).where(AdminUser.username == "clerk")).one()
        assert verify_password(user.password_hash, new)
        assert not verify_password(user.password_hash, "long-password-1")
    chosen = run_cli(
        env, "admin", "password", "--username", "clerk", "--password", "another-pass-2"
    )
    assert chosen.returncode == 0 and "another-pass-2" not in chosen.stdout
    unknown = run_cli(env, "admin", "password", "--username", "nobody")
    assert unknown.returncode != 0 and "nobody" in unknown.stderr
    too_short = run_cli(env, "admin", "password", "--username", "clerk", "--password", "short")
    assert too_short.returncode == 2 and "至少" in too_short.stderr
    for cmd in (
        ["--help"],
        ["serve", "--help"],
        ["db", "upgrade", "--help"],
        ["export", "--help"],
        ["admin", "password", "--help"],
    ):
        assert run_cli(env, *cmd).returncode == 0


def test_export_has_fields_and_no_secrets(
    database_url: str, engine: Engine, demo: None, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import make_settings

    with TestClient(create_app(make_settings(database_url))) as c:
        c.post("/api/v1/units/demo/submissions", json={"text": "=cmd|' /C calc'!A0 建议"})
        c.post(
            "/api/v1/units/demo2/submissions",
            json={"text": "实名建议", "anonymous": False, "name": "王五", "contact": "139"},
        )
    env = server_env(database_url)
    out = run_cli(env, "export", "--format", "jsonl")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 2
    assert set(rows[0]) == {
        "id",
        "unit",
        "channel",
        "role",
        "anonymous",
        "text",
        "check",
        "status",
        "created_at",
    }
    assert "王五" not in out.stdout and "receipt" not in out.stdout
    target = tmp_path / "x.csv"
    assert (
        run_cli(env, "export", "--format", "csv", "--unit", "demo", "--out", str(target)).returncode
        == 0
    )
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(parsed) == 1 and parsed[0]["unit"] == "demo"
    assert not parsed[0]["text"].startswith("=")
