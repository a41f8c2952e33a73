"""The lexicon and the learned score on the labelled sets in tests/alerts/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.alerts import detect
from app.alerts.service import shipped_model

DATA = Path(__file__).parent / "data"


def labelled(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines() if line]


def flagged(text: str) -> detect.Hit | None:
    return detect.scan(text, shipped_model())


def test_the_labelled_set_is_big_enough() -> None:
    rows = labelled("urgent-eval.jsonl")
    urgent = [r for r in rows if r["urgent"]]
    assert len(urgent) >= 150 and len(rows) - len(urgent) >= 300
    assert {r["category"] for r in urgent} == set(detect.URGENT_CATEGORIES)


def test_recall_and_false_alarms_on_the_labelled_set() -> None:
    rows = labelled("urgent-eval.jsonl")
    urgent = [r for r in rows if r["urgent"]]
    ordinary = [r for r in rows if not r["urgent"]]
    caught = [r for r in urgent if flagged(str(r["text"]))]
    alarms = [r for r in ordinary if flagged(str(r["text"]))]
    assert len(caught) / len(urgent) >= 0.95, [r["text"] for r in urgent if r not in caught]
    assert len(alarms) / len(ordinary) <= 0.10


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("数学老师扇了孩子两个耳光。", "corporal"),
        ("孩子被罚站一天，腿都站肿了。", "corporal"),
        ("我家孩子被同学打了，还被欺负了好几次。", "bullying"),
        ("孩子说不想活了。", "selfharm"),
        ("昨晚她割腕了，幸好发现得早。", "selfharm"),
        ("吃完午饭全班上吐下泻。", "food"),
        ("宿舍集体腹泻，学校不让说。", "food"),
        ("校车超载，一辆车塞了二十个孩子。", "building"),
        ("教室墙体开裂了。", "building"),
        ("孩子没回家，电话也联系不上。", "missing"),
        ("体育老师对女生动手动脚。", "sexual"),
    ],
)
def test_the_brief_phrases_are_flagged_with_their_category(text: str, category: str) -> None:
    hit = flagged(text)
    assert hit is not None and category in hit.categories and hit.source == "lexicon"


@pytest.mark.parametrize(
    "text",
    [
        "学校开展了防欺凌主题教育，孩子很有收获。",
        "希望学校继续严禁体罚，老师们都很耐心。",
        "学校组织了预防食物中毒知识讲座。",
        "孩子喜欢体育课打篮球。",
        "班主任经常给我们打电话沟通。",
    ],
)
def test_prevention_talk_and_harmless_uses_are_not_flagged(text: str) -> None:
    assert flagged(text) is None


def test_the_learned_part_catches_what_the_lexicon_misses() -> None:
    # No lexicon term in it; the score comes from bigrams of the urgent training examples.
    text = "那个男老师总是在午休时叫女孩子去他宿舍，说是补课。"
    assert detect.lexicon_hits(text) == {}
    hit = flagged(text)
    assert hit is not None and hit.source == "model" and hit.categories == ["sexual"]
