"""Benchmark and accuracy report for urgent-item detection (run: python bench/alerts.py).

Prints the time `scan` (lexicon, then the learned score) takes per item on short and long
texts, and against it the tagger's time for the same texts (both run in the write path);
then recall and false-alarm rate, lexicon alone and lexicon + learned part, on the labelled
set (tests/alerts/data/urgent-eval.jsonl) and on the fresh set written after the lexicon was
frozen (urgent-fresh.jsonl, urgent only), per category.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.alerts import detect  # noqa: E402
from app.alerts.service import shipped_model  # noqa: E402
from app.tagging import load_tagger  # noqa: E402

DATA = ROOT / "tests" / "alerts" / "data"


def rows(name: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in (DATA / name).read_text("utf-8").splitlines() if x]


def per_item_us(fn: object, texts: list[str], repeat: int = 5) -> float:
    assert callable(fn)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            fn(text)
        runs.append((time.perf_counter() - start) / len(texts) * 1e6)
    return statistics.median(runs)


def speed(model: detect.Model) -> None:
    ev = rows("urgent-eval.jsonl")
    short = [str(r["text"]) for r in ev if len(str(r["text"])) <= 80]
    long_ = [str(r["text"]) for r in ev if len(str(r["text"])) > 300]
    longest = [(str(long_[0]) * 20)[:5000]]
    tagger = load_tagger()
    detect.scan("预热", model)
    print("speed (median of 5 runs, one core)")
    print(
        f"{'texts':<28}{'n':>5}{'avg chars':>10}{'scan µs':>10}{'lexicon µs':>11}{'tagger µs':>10}"
    )
    for label, texts in (
        ("short (<=80 chars)", short),
        ("long letters (>300)", long_),
        ("5000 chars (the maximum)", longest),
    ):
        avg = sum(map(len, texts)) / len(texts)
        print(
            f"{label:<28}{len(texts):>5}{avg:>10.0f}"
            f"{per_item_us(lambda t: detect.scan(t, model), texts):>10.0f}"
            f"{per_item_us(detect.lexicon_hits, texts):>11.0f}"
            f"{per_item_us(tagger.suggest, texts):>10.0f}"
        )


def accuracy(model: detect.Model) -> None:
    print(
        "\naccuracy. labelled: the lexicon was tuned on it. fresh-1: written after the lexicon"
        " was frozen; the learned part's training data was extended after reading it."
        " fresh-2: written after both were frozen, measured once."
    )
    sets = {
        "labelled": rows("urgent-eval.jsonl"),
        "fresh-1": rows("urgent-fresh.jsonl"),
        "fresh-2": rows("urgent-fresh-2.jsonl"),
    }
    print(
        f"{'set':<10}{'urgent':>7}{'other':>7}  {'lexicon recall':>15}{'lex+model recall':>17}"
        f"{'lexicon FA':>11}{'lex+model FA':>13}"
    )
    for name, data in sets.items():
        urgent = [str(r["text"]) for r in data if r["urgent"]]
        other = [str(r["text"]) for r in data if not r["urgent"]]
        lex = [bool(detect.lexicon_hits(t)) for t in urgent]
        both = [detect.scan(t, model) is not None for t in urgent]
        lex_fa = [bool(detect.lexicon_hits(t)) for t in other]
        both_fa = [detect.scan(t, model) is not None for t in other]

        def pct(xs: list[bool]) -> str:
            return f"{sum(xs) / len(xs):.1%} ({sum(xs)}/{len(xs)})" if xs else "—"

        print(
            f"{name:<10}{len(urgent):>7}{len(other):>7}  {pct(lex):>15}{pct(both):>17}"
            f"{pct(lex_fa):>11}{pct(both_fa):>13}"
        )
    print("\nper category (lex+model recall)")
    for name, data in sets.items():
        hit: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for r in data:
            if r["urgent"]:
                total[str(r["category"])] += 1
                hit[str(r["category"])] += detect.scan(str(r["text"]), model) is not None
        print(
            name
            + ": "
            + ", ".join(
                f"{detect.URGENT_CATEGORIES[c]} {hit[c]}/{total[c]}"
                for c in detect.URGENT_CATEGORIES
            )
        )


def main() -> None:
    start = time.perf_counter()
    model = shipped_model()
    print(
        f"learned part: trained in {time.perf_counter() - start:.2f} s, "
        f"{len(model.weights)} bigrams, threshold {detect.THRESHOLD}\n"
    )
    speed(model)
    accuracy(model)


if __name__ == "__main__":
    main()
