"""The lexicon and the learned score on the labelled sets in tests/alerts/data.

urgent-fresh-3.jsonl was written before the detector of session 9 was built and never read
while building it; session 10 reused it to measure its changes. urgent-fresh-4.jsonl was written
in session 10 before any change to the detector and is not read for training. On both the goal
is recall >= 97% with no category below 18/21, and false alarms under 10%.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from app.alerts import detect
from app.alerts.service import shipped_model, shipped_version, train_shipped_model
from app.tagging.text import normalize

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


@pytest.mark.parametrize(
    ("name", "ordinary", "long_ordinary"),
    [("urgent-fresh-3.jsonl", 150, 3), ("urgent-fresh-4.jsonl", 160, 1)],
)
def test_the_frozen_fresh_sets_are_big_and_varied_enough(
    name: str, ordinary: int, long_ordinary: int
) -> None:
    rows = labelled(name)
    per_category = Counter(str(r["category"]) for r in rows if r["urgent"])
    assert set(per_category) == set(detect.URGENT_CATEGORIES)
    assert min(per_category.values()) >= 20
    assert sum(not r["urgent"] for r in rows) >= ordinary
    # Long letters, and traditional characters, on both sides.
    for urgent, long_letters in ((True, 3), (False, long_ordinary)):
        texts = [str(r["text"]) for r in rows if r["urgent"] is urgent]
        assert sum(len(t) > 80 for t in texts) >= long_letters
        assert sum(t != normalize(t) for t in texts) >= 3


def recall_and_alarms(name: str) -> tuple[float, float, list[str]]:
    rows = labelled(name)
    urgent = [str(r["text"]) for r in rows if r["urgent"]]
    ordinary = [str(r["text"]) for r in rows if not r["urgent"]]
    missed = [t for t in urgent if flagged(t) is None]
    alarms = [t for t in ordinary if flagged(t) is not None]
    return 1 - len(missed) / len(urgent), len(alarms) / len(ordinary), missed


def test_recall_and_false_alarms_on_the_labelled_set() -> None:
    recall, alarms, missed = recall_and_alarms("urgent-eval.jsonl")
    assert recall == 1.0, missed
    assert alarms <= 0.10


@pytest.mark.parametrize("name", ["urgent-fresh-3.jsonl", "urgent-fresh-4.jsonl"])
def test_the_frozen_fresh_sets_meet_the_goal(name: str) -> None:
    recall, alarms, missed = recall_and_alarms(name)
    assert recall >= 0.97, missed
    assert alarms < 0.10
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for row in labelled(name):
        if row["urgent"]:
            total[str(row["category"])] += 1
            caught[str(row["category"])] += flagged(str(row["text"])) is not None
    assert all(caught[c] / total[c] >= 18 / 21 for c in total), caught


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


@pytest.mark.parametrize(
    "text",
    [
        "孩子的铅笔盒不见了，可能落在家里了。",
        "孩子的红领巾找不到了。",
        "学校办公室的电话总是打不通。",
        "教室的窗帘坏了。",
        "老旧宿舍楼的危房改造今年完工。",
        "社区派出所的民警来学校讲防诈骗。",
        "学校厕所有股臭味。",
        "孩子住校，离家比较远。",
        "校车司机提醒孩子们系好安全带。",
        "同学们打扫卫生很积极。",
        "老师提醒孩子们不要随便加网友。",
    ],
)
def test_stems_do_not_fire_on_everyday_context(text: str) -> None:
    assert detect.lexicon_hits(text) == {}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("孩子留下纸条离家了。", "missing"),
        ("孩子放学后就不见了。", "missing"),
        ("女儿跟着网友走了，现在找不到。", "missing"),
        ("孩子被陌生人带走了。", "missing"),
        ("孩子手机关机，到处找。", "missing"),
        ("食堂的肉有股臭味。", "food"),
        ("校车没有安全带。", "building"),
        ("教室的窗户玻璃碎了，窗框松了。", "building"),
        ("几个同学打了我儿子。", "bullying"),
    ],
)
def test_the_stricter_stems_still_fire_on_incidents(text: str, category: str) -> None:
    assert category in detect.lexicon_hits(text)


def test_the_learned_part_catches_what_the_lexicon_misses() -> None:
    # No lexicon term in it; the score comes from n-grams of the urgent training examples.
    text = "那个男老师总是午休时叫女孩子陪他，说是补课。"
    assert detect.lexicon_hits(text) == {}
    hit = flagged(text)
    assert hit is not None and hit.source == "model" and hit.categories == ["sexual"]


def test_traditional_characters_are_read_as_simplified_and_quoted_as_written() -> None:
    hit = flagged("老師打了我女兒一巴掌，臉都腫了。")
    assert hit is not None and "corporal" in hit.categories and "一巴掌" in hit.evidence


LONG_LETTER = (
    "尊敬的校长：您好！我是三年级的家长，感谢老师们这学期的付出，孩子的阅读进步很大。"
    "学校的午休安排也很合理，孩子中午能睡一会儿。"
    "{danger}"
    "另外，希望学校能公布一下这学期资料费的明细，家长们心里有个数。谢谢！"
)


def test_a_long_letter_is_flagged_by_its_one_dangerous_sentence() -> None:
    danger = "那个男老师总是午休时叫女孩子陪他，说是补课。"
    hit = flagged(LONG_LETTER.format(danger=danger))
    assert hit is not None and hit.source == "model" and hit.evidence == [danger[:-1]]
    assert flagged(LONG_LETTER.format(danger="")) is None


def test_prevention_talk_skips_only_its_own_sentence() -> None:
    text = "学校开展过防欺凌主题教育。可是那个男老师总是午休时叫女孩子陪他，说是补课。"
    hit = flagged(text)
    assert hit is not None and hit.categories == ["sexual"]


def test_the_shipped_model_file_is_the_one_trained_on_the_shipped_examples() -> None:
    # Fails once the examples or the tagger's corpus change: `yijian alerts retrain --shipped`.
    stored = detect.from_bytes(detect.SHIPPED_MODEL_PATH.read_bytes())
    assert stored.version == shipped_version()
    trained = train_shipped_model()
    assert stored.vocab == trained.vocab
    assert np.allclose(stored.weights, trained.weights, atol=1e-3)


def test_a_stored_model_scores_like_the_trained_one() -> None:
    model = shipped_model()
    again = detect.from_bytes(detect.to_bytes(model))
    text = LONG_LETTER.format(danger="孩子最近总说活着没意思。")
    assert detect.model_score(again, text) == pytest.approx(detect.model_score(model, text))
