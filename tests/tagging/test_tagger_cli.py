from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.tagging import Tagger
from app.tagging.cli import tag_stream, tagger_app


def test_tag_stream_good_and_bad_lines(tagger: Tagger) -> None:
    lines = [
        json.dumps({"id": 1, "text": "老师收家长红包"}, ensure_ascii=False),
        "not json",
        "[1, 2]",
        json.dumps({"id": "b"}),
        json.dumps({"id": 3, "text": ""}),
        json.dumps({"id": 4, "text": 42}),
        json.dumps({"id": 5, "text": "长" * 20_001}),
        "",
        json.dumps({"text": "食堂饭菜太差"}, ensure_ascii=False),
    ]
    out = io.StringIO()
    errors = tag_stream(tagger, io.StringIO("\n".join(lines) + "\n"), out)
    results = [json.loads(x) for x in out.getvalue().splitlines()]
    assert len(results) == len(lines)
    assert errors == 7
    assert results[0]["id"] == 1 and results[0]["check"] == 4
    assert results[1] == {"id": None, "error": "line is not valid JSON"}
    assert results[2]["id"] is None and "JSON object" in results[2]["error"]
    assert results[3] == {"id": "b", "error": "missing 'text'"}
    assert results[4] == {"id": 3, "error": "'text' is empty"}
    assert results[5] == {"id": 4, "error": "'text' must be a string"}
    assert results[6]["id"] == 5 and "too long" in results[6]["error"]
    assert "error" in results[7]
    assert results[8]["id"] is None and results[8]["check"] == 5


def test_tag_stream_keeps_order_across_batches(tagger: Tagger) -> None:
    texts = ["你好", "老师收红包", "转学手续难办"] * 200
    src = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
    out = io.StringIO()
    assert tag_stream(tagger, io.StringIO(src), out) == 0
    results = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["id"] for r in results] == list(range(len(texts)))
    assert [r["check"] for r in results[:3]] == [0, 4, 5]


def test_eval_command(tmp_path: Path) -> None:
    data = tmp_path / "eval.jsonl"
    data.write_text(
        '{"text": "老师办有偿补习班", "check": 4}\n{"text": "谢谢老师", "check": 0}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(tagger_app, ["eval", str(data), "--shipped"])
    assert result.exit_code == 0, result.output
    assert "top-1 accuracy: 1.000" in result.output
    assert "confusion" in result.output


def test_eval_command_bad_file(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(tagger_app, ["eval", str(data)])
    assert result.exit_code != 0
    assert "bad.jsonl:1" in result.output


def test_eval_without_a_migrated_database_uses_the_shipped_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIJIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    data = tmp_path / "eval.jsonl"
    data.write_text(
        '{"text": "老师办有偿补习班", "check": 4, "also": [3]}\n{"text": "谢谢老师", "check": 0}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(tagger_app, ["eval", str(data)])
    assert result.exit_code == 0, result.output
    assert "未迁移" in result.output and "Traceback" not in result.output
    assert "acceptable: 1.000" in result.output
