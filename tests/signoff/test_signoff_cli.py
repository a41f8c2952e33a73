"""`yijian signoff set`: the per-unit 答复需审核 setting and the bureau's default from the
command line."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.models import Bureau, ReplySignoff
from tests.conftest import run_cli, server_env
from tests.factories import unit_id


def signed_off(engine: Engine) -> list[int]:
    with Session(engine) as s:
        query = select(ReplySignoff.unit_id).where(ReplySignoff.required == True)  # noqa: E712
        return list(s.exec(query).all())


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


def test_signoff_set_the_bureau_default_and_a_school_following_it(
    engine: Engine, demo: None, database_url: str
) -> None:
    env = server_env(database_url)
    on = run_cli(env, "signoff", "set", "--bureau", "--on")
    assert on.returncode == 0 and "教育局默认" in on.stdout, on.stderr
    with Session(engine) as s:
        assert [b.reply_signoff for b in s.exec(select(Bureau)).all()] == [True]
    assert run_cli(env, "signoff", "set", "demo", "--off").returncode == 0
    with Session(engine) as s:
        assert s.get(ReplySignoff, unit_id(s, slug="demo")).required is False  # type: ignore[union-attr]
    follow = run_cli(env, "signoff", "set", "demo", "--inherit")
    assert follow.returncode == 0 and "跟随教育局默认" in follow.stdout
    with Session(engine) as s:
        assert s.exec(select(ReplySignoff)).all() == []
    for wrong in (("signoff", "set"), ("signoff", "set", "demo", "--bureau")):
        bad = run_cli(env, *wrong)
        assert bad.returncode == 2 and "--bureau" in bad.stderr
    assert run_cli(env, "signoff", "set", "--bureau", "--inherit").returncode == 2
