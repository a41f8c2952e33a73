import json

from sqlalchemy import Engine

from app.groups.jobs import group_new_items
from tests.conftest import run_cli, server_env
from tests.factories import insert_submissions
from tests.groups.corpus import CONCERNS, OTHERS


def test_groups_prints_each_group_of_the_unit(
    engine: Engine, demo: None, database_url: str
) -> None:
    canteen = insert_submissions(engine, rows=[{"text": t} for t in CONCERNS[0][:4]])
    bus = insert_submissions(engine, rows=[{"text": t, "unit": "demo2"} for t in CONCERNS[1][:3]])
    alone = insert_submissions(engine, rows=[{"text": OTHERS[0]}])
    assert group_new_items(engine).grouped == len(canteen + bus + alone)
    env = server_env(database_url)
    out = run_cli(env, "groups", "--unit", "demo", "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["size"], r["members"]) for r in records] == [(4, canteen)]
    assert "食堂" in records[0]["label"]
    other = run_cli(env, "groups", "--unit", "demo2")
    assert other.returncode == 0
    assert other.stdout.splitlines()[0].split("\t")[1:2] == ["同类 3 条"]
    assert run_cli(env, "groups", "--unit", "nowhere").returncode == 2
    assert run_cli(env, "groups", "--unit", "demo", "--format", "xml").returncode == 2
