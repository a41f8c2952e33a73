"""Long letters in the register citizens write in: titles, acceptable readings, accuracy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.tagging import Tagger, evaluate, format_report, ngram, read_examples
from app.tagging.registry import corpus_paths, load_lexicon, read_also

# Written apart from the training letters, in other voices (12345 work orders, message
# boards, teachers, grandparents), and never trained on.
LETTERS_HOLDOUT = Path(__file__).parent / "letters-holdout.jsonl"
LETTERS_DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "tagging-letters-dev.jsonl"


# The goal on real letters is 90% acceptable and 80% exact; this holdout is easier than real
# letters (the model before the letters corpus scored 90% / 84% on it), so it guards more.
@pytest.mark.parametrize(
    ("path", "acceptable", "exact"),
    [(LETTERS_HOLDOUT, 0.93, 0.9), (LETTERS_DEV, 0.93, 0.9)],
    ids=["holdout", "dev"],
)
def test_letters_accuracy(tagger: Tagger, path: Path, acceptable: float, exact: float) -> None:
    if not path.exists():
        pytest.skip(f"{path} not found (the dev set lives in the shared folder)")
    report = evaluate(tagger, read_examples(path), also=read_also(path))
    assert report.acceptable is not None and report.acceptable >= acceptable, format_report(report)
    assert report.accuracy >= exact, format_report(report)
    assert report.zero_rate < 0.02, format_report(report)


def test_the_holdout_is_not_in_the_training_files() -> None:
    trained = {t for path in corpus_paths() for t, _ in read_examples(path)}
    assert not trained & {t for t, _ in read_examples(LETTERS_HOLDOUT)}
    assert any(p.name.startswith("letters-") for p in corpus_paths())


def test_acceptable_counts_second_readings(tagger: Tagger) -> None:
    examples = [("老师在家里办有偿补习班，每月收八百元", 3), ("谢谢老师", 0)]
    report = evaluate(tagger, examples, also=[(4,), ()])
    assert report.accuracy == 0.5 and report.acceptable == 1.0
    assert "acceptable: 1.000" in format_report(report)
    assert evaluate(tagger, examples).acceptable is None


def test_read_also(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "a", "check": 1, "also": [2, 3]}\n\n{"text": "b", "check": 0}\n')
    assert read_also(good) == [(2, 3), ()]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "check": 1, "also": [9]}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        read_also(bad)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("关于食堂收费的反映\n尊敬的领导：食堂一顿饭十二元。", "关于食堂收费的反映"),
        ("食堂一顿饭十二元，太贵了。", ""),  # one line: no title
        ("关于食堂收费的反映\n\n", ""),  # no body
        ("Re: 123\n食堂一顿饭十二元。", ""),  # an email subject without Chinese
        ("长" * 61 + "\n食堂一顿饭十二元。", ""),  # too long for a title
    ],
)
def test_split_title(text: str, title: str) -> None:
    assert ngram.split_title(text)[0] == title


EXAMPLES = [("关于收费\n老师收钱", 4), ("关于收费\n乱收费", 4), ("谢谢\n谢谢老师", 0)] * 2


def test_title_weight_is_saved_with_the_model() -> None:
    model = ngram.train(EXAMPLES, load_lexicon(), title_weight=2.0, epochs=5)
    assert ngram.load(ngram.to_bytes(model)).title_weight == 2.0
    # Title n-grams are features of their own: they sort last among the n-grams.
    assert int(model.gram_keys[-1]) >> 63 == 1
    untitled = ngram.train(EXAMPLES, load_lexicon(), epochs=5)
    assert ngram.load(ngram.to_bytes(untitled)).title_weight == 0.0
    assert int(untitled.gram_keys[-1]) >> 63 == 0


def test_sentence_scores_share_a_letter_s_score() -> None:
    model = ngram.train(EXAMPLES, load_lexicon(), sentence_weight=0.5, epochs=5)
    assert ngram.load(ngram.to_bytes(model)).sentence_weight == 0.5
    whole_only = ngram.NgramTagger(replace(model, sentence_weight=0.0))
    mixed = ngram.NgramTagger(model)
    letter = "关于收费的反映\n尊敬的领导您好。老师每学期乱收费三百元。谢谢老师们的辛苦付出。"
    assert mixed.suggest(letter).scores != whole_only.suggest(letter).scores
    one_sentence = "老师乱收费三百元"
    assert mixed.suggest(one_sentence).scores == whole_only.suggest(one_sentence).scores
