"""The worker's daily run: once a day even with two workers; the CLI by hand."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.models import AuditLog
from app.retention.jobs import jobs, run_retention
from app.retention.service import PurgeResult
from app.worker import JOB_FACTORIES
from tests.conftest import run_cli, server_env
from tests.helpers import as_processes
from tests.retention.helpers import closed_item, dump, today


def test_two_workers_run_it_once(engine: Engine, database_url: str, demo: None) -> None:
    item = closed_item(engine, "old", closed_days_ago=200)
    outcomes = as_processes(database_url, 2, lambda e: run_retention(e, today=today()))
    done = [o for o in outcomes if isinstance(o, PurgeResult)]
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert len(done) == 1 and done[0].ids == [item.id]
    # Later ticks of the same day find the run done.
    assert run_retention(engine, today=today()) is None
    with Session(engine) as s:
        runs = s.exec(select(AuditLog).where(col(AuditLog.action) == "retention_purge")).all()
    assert len(runs) == 1
    assert jobs in JOB_FACTORIES


def test_cli_dry_run_then_run(engine: Engine, database_url: str, demo: None) -> None:
    item = closed_item(engine, "old", closed_days_ago=200)
    env = server_env(database_url)
    before = dump(engine)
    dry = run_cli(env, "retention", "run", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "将清理 1 条意见：姓名和联系方式 1 条，原始邮件 1 封，附件 2 个" in dry.stdout
    assert dump(engine) == before
    real = run_cli(env, "retention", "run")
    assert real.returncode == 0, real.stderr
    assert "已清理 1 条意见" in real.stdout
    assert all(m not in dump(engine) for m in item.markers)
    shown = run_cli(env, "retention", "policy", "--purge-days", "90")
    assert shown.returncode == 0 and "办结 90 天后" in shown.stdout and "365 天后" in shown.stdout
    refused = run_cli(env, "retention", "policy", "--archive-days", "5")
    assert refused.returncode == 2 and "30 到 3650" in refused.stderr
