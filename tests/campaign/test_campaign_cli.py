"""The campaign commands as an operator runs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.models import EvaluationCode, RosterPerson
from tests.conftest import run_cli, server_env


def test_roster_print_and_eval_commands(
    database_url: str, engine: Engine, demo: None, tmp_path: Path
) -> None:
    env = server_env(database_url)
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,职务,邮箱\n王老师,教务主任,wang@x\n,政教主任,\n", encoding="utf-8")
    refused = run_cli(env, "roster", "import", "--unit", "demo", str(bad))
    assert refused.returncode == 2
    assert "第2行：邮箱格式不正确" in refused.stderr and "第3行：姓名为空" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text("姓名,职务\n王老师,教务主任\n赵老师,德育主任\n", encoding="utf-8")
    done = run_cli(env, "roster", "import", "--unit", "demo", str(good))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("http://127.0.0.1:8000/idea/") == 2
    with Session(engine) as s:
        assert len(s.exec(select(RosterPerson)).all()) == 2

    report = run_cli(env, "roster", "compliance", "--unit", "demo")
    assert "名单 2 人，已提交 0 人，未提交 2 人" in report.stdout
    as_csv = run_cli(env, "roster", "compliance", "--format", "csv")
    assert as_csv.stdout.splitlines()[0] == "单位,姓名,职务,邮箱,已提建议数,状态,上次提醒"
    assert "赵老师" in as_csv.stdout
    no_smtp = run_cli(env, "roster", "remind")
    assert no_smtp.returncode == 2 and "YIJIAN_SMTP_HOST" in no_smtp.stderr

    letter = tmp_path / "letter.pdf"
    assert run_cli(env, "print", "letter", "--unit", "demo", "--out", str(letter)).returncode == 0
    assert letter.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", str(letter), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "示范县第一初级中学" in text
    missing = run_cli(env, "print", "poster", "--unit", "nowhere", "--out", str(tmp_path / "p.pdf"))
    assert missing.returncode == 2 and "没有找到这个单位" in missing.stderr

    forms = tmp_path / "forms.pdf"
    made = run_cli(env, "eval", "codes", "--unit", "demo", "--count", "6", "--out", str(forms))
    assert made.returncode == 0, made.stderr
    assert forms.read_bytes().startswith(b"%PDF-")
    with Session(engine) as s:
        assert len(s.exec(select(EvaluationCode)).all()) == 6
