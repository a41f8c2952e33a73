"""Accuracy guards; the dev set is only measured against, never trained on."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tagging import Tagger, evaluate, format_report, read_examples

REPO = Path(__file__).resolve().parents[2]
DEV_SET = REPO.parent / "shared" / "data" / "tagging-dev.jsonl"
HOLDOUT = Path(__file__).parent / "holdout.jsonl"


def test_dev_set_accuracy(tagger: Tagger) -> None:
    if not DEV_SET.exists():
        pytest.skip(f"dev set not found at {DEV_SET} (it lives in the shared folder)")
    report = evaluate(tagger, read_examples(DEV_SET))
    assert report.accuracy >= 0.9, format_report(report)
    assert report.top2_accuracy >= 0.95, format_report(report)
    assert report.zero_rate <= 0.03, format_report(report)


def test_holdout_accuracy(tagger: Tagger) -> None:
    report = evaluate(tagger, read_examples(HOLDOUT))
    assert report.accuracy >= 0.95, format_report(report)
    assert report.top2_accuracy >= 0.95, format_report(report)


def test_format_report(tagger: Tagger) -> None:
    text = format_report(evaluate(tagger, [("老师收红包", 4), ("你好", 0), ("校车太少", 1)]))
    assert "top-1 accuracy: 0.667" in text
    assert "precision" in text and "confusion" in text
