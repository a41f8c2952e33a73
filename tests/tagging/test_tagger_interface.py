from __future__ import annotations

import math

import pytest
from sqlalchemy import Engine

from app.tagging import CHECKS, Suggestion, Tagger, load_tagger, normalize, validate_text


def test_suggestion_shape(tagger: Tagger) -> None:
    s = tagger.suggest("有老师在家里办补习班,一节课收一百元。")
    assert isinstance(s, Suggestion)
    assert s.check == 4
    assert set(s.scores) == set(CHECKS)
    assert math.isclose(sum(s.scores.values()), 1.0, abs_tol=1e-3)
    assert [c for c, _ in s.ranked] == sorted(s.scores, key=lambda c: -s.scores[c])
    assert s.ranked[0] == (s.check, s.scores[s.check])
    assert 1 <= len(s.evidence) <= 5
    assert all(isinstance(e, str) and e for e in s.evidence)
    assert any("补习班" in e for e in s.evidence)


def test_to_json(tagger: Tagger) -> None:
    obj = tagger.suggest("食堂的饭菜太难吃了").to_json("a1")
    assert obj["id"] == "a1"
    assert obj["check"] == 5
    assert list(obj["scores"]) == ["0", "1", "2", "3", "4", "5"]
    assert isinstance(obj["evidence"], list)
    assert tagger.suggest("x").to_json()["id"] is None


def test_suggest_many_matches_suggest(tagger: Tagger) -> None:
    texts = ["学校形式主义严重,天天填表", "你好", "", "學校領導思想保守,不敢改革", "转学手续太麻烦"]
    many = tagger.suggest_many(texts)
    assert [s.check for s in many] == [tagger.suggest(t).check for t in texts]
    assert tagger.suggest_many([]) == []


def test_name_and_version(tagger: Tagger) -> None:
    assert tagger.name == "ngram"
    assert tagger.version.startswith("ngram-")


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown tagger"):
        load_tagger("nope")


def test_a_database_without_models_uses_the_shipped_one(engine: Engine) -> None:
    assert load_tagger(engine=engine).version == load_tagger().version


@pytest.mark.parametrize(
    "text",
    ["", "   ", "测试", "测试一下", "test", "123", "你好", "您好!", "谢谢老师!", "👍👍", "aaaa"],
)
def test_not_a_suggestion(tagger: Tagger, text: str) -> None:
    assert tagger.suggest(text).check == 0


@pytest.mark.parametrize(
    ("traditional", "check"),
    [
        ("老師私下辦補習班收費,違反規定。", 4),
        ("學校食堂飯菜太差,孩子吃不飽。", 5),
        ("學校檢查評比太多,形式主義嚴重。", 3),
    ],
)
def test_traditional_input(tagger: Tagger, traditional: str, check: int) -> None:
    s = tagger.suggest(traditional)
    assert s.check == check
    # Evidence is quoted from the submitter's own (traditional) text.
    assert all(e in traditional for e in s.evidence)


def test_normalize_keeps_length() -> None:
    src = "學校ＡＢＣ１２３　亂收費"
    assert normalize(src) == "学校abc123 乱收费"
    assert len(normalize(src)) == len(src)


def test_validate_text() -> None:
    assert validate_text("好") == "好"
    for bad, msg in [(None, "string"), (5, "string"), ("  ", "empty"), ("字" * 20_001, "too long")]:
        with pytest.raises(ValueError, match=msg):
            validate_text(bad)


def test_concerns_of_a_letter_with_two_problems(tagger: Tagger) -> None:
    letter = (
        "关于学校乱收费和食堂的问题\n"
        "学校这学期每个学生收了八百元资料费，没有开收据，也没有说明是哪个文件规定的。"
        "另外，食堂的饭菜经常是凉的，分量也少，孩子每天中午都吃不饱，家长们意见很大。"
    )
    s = tagger.suggest(letter)
    checks = [c.check for c in s.concerns]
    assert checks[0] == s.check
    assert {4, 5} <= set(checks)
    by_check = {c.check: c for c in s.concerns}
    assert any("资料费" in q for q in by_check[4].sentences)
    assert any("食堂" in q for q in by_check[5].sentences)
    assert all(q in letter for c in s.concerns for q in c.sentences)


def test_a_one_sentence_text_has_one_concern(tagger: Tagger) -> None:
    s = tagger.suggest("食堂的饭菜太难吃了")
    assert [c.check for c in s.concerns] == [s.check]
