"""`yijian signoff set`: the per-unit 答复需审核 setting from the command line."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.models import ReplySignoff
from tests.conftest import run_cli, server_env
from tests.factories import unit_id


def signed_off(engine: Engine) -> list[int]:
    with Session(engine) as s:
        return list(s.exec(select(ReplySignoff.unit_id)).all())


def test_signoff_set_turns_the_setting_on_and_off(
    engine: Engine, demo: None, database_url: str
) -> None:
    env = server_env(database_url)
    on = run_cli(env, "signoff", "set", "demo", "--on")
    assert on.returncode == 0 and "已开启" in on.stdout, on.stderr
    with Session(engine) as s:
        assert signed_off(engine) == [unit_id(s, slug="demo")]
    assert run_cli(env, "signoff", "set", "demo", "--on").returncode == 0  # twice: still one
    assert len(signed_off(engine)) == 1
    assert run_cli(env, "signoff", "set", "demo", "--off").returncode == 0
    assert signed_off(engine) == []
    assert run_cli(env, "signoff", "set", "nowhere").returncode == 2
