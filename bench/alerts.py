"""Benchmark and accuracy report for urgent-item detection (run: python -m bench.alerts).

Prints, for the detector shipped before session 9 (its code, lexicon and examples read from
git at BASELINE_COMMIT, trained the way it was) beside the current one:
- the time `scan` takes per item on short texts, long letters and a 5000-character text,
  with the tagger's time for the same texts (both run in the write path);
- a cross-validated sweep of the learned part's threshold on the shipped training data (how
  THRESHOLD was chosen: recall first, false alarms second);
- recall and false alarms on the labelled set and fresh-1 to fresh-4, per category.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.alerts import detect  # noqa: E402
from app.alerts.service import (  # noqa: E402
    _training_examples,
    shipped_model,
    train_shipped_model,
)
from app.tagging import load_tagger  # noqa: E402
from app.tagging.registry import CORPUS_PATH, read_examples  # noqa: E402

DATA = ROOT / "tests" / "alerts" / "data"
# main before session 9: a lexicon plus naive-Bayes bigram log-odds over whole sentences.
BASELINE_COMMIT = "566bc6e4321f4ebbef76fd406c93c8fc27f70061"
SETS = {
    "labelled": "urgent-eval.jsonl",  # the old lexicon was tuned on it
    "fresh-1": "urgent-fresh.jsonl",  # the old examples were extended after reading it
    "fresh-2": "urgent-fresh-2.jsonl",  # session 9 looked at it while building the new part
    "fresh-3": "urgent-fresh-3.jsonl",  # written first in session 9, frozen; reused in session 10
    "fresh-4": "urgent-fresh-4.jsonl",  # written first in session 10, frozen, never trained on
}
SWEEP = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)
FOLDS = 5

Scan = Callable[[str], object]


def rows(name: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in (DATA / name).read_text("utf-8").splitlines() if x]


def git_show(path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:{path}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def baseline_scan(workdir: Path) -> Scan:
    """The old detector's scan with its own lexicon and examples, trained as it was."""
    (workdir / "data").mkdir()
    for name in ("lexicon.json", "train.jsonl"):
        (workdir / "data" / name).write_text(git_show(f"app/alerts/data/{name}"), "utf-8")
    source = workdir / "detect.py"
    source.write_text(git_show("app/alerts/detect.py"), "utf-8")
    spec = importlib.util.spec_from_file_location("baseline_detect", source)
    assert spec is not None and spec.loader is not None
    old = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    ordinary = [(text, None) for text, _check in read_examples(CORPUS_PATH)]
    model = old.train([*old.read_training(), *ordinary], version="baseline")
    return lambda text: old.scan(text, model)


def per_item_us(fn: Scan, texts: list[str], repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            fn(text)
        runs.append((time.perf_counter() - start) / len(texts) * 1e6)
    return statistics.median(runs)


def speed(scans: dict[str, Scan]) -> None:
    ev = rows("urgent-eval.jsonl")
    short = [str(r["text"]) for r in ev if len(str(r["text"])) <= 80]
    long_ = [str(r["text"]) for r in ev if len(str(r["text"])) > 300]
    longest = [(long_[0] * 20)[:5000]]
    tagger = load_tagger()
    for scan in scans.values():
        scan("预热")
    print("speed per text (median of 5 runs, one core)")
    names = "".join(f"{name + ' µs':>14}" for name in scans)
    print(f"{'texts':<28}{'n':>5}{'avg chars':>10}{names}{'tagger µs':>11}")
    for label, texts in (
        ("short (<=80 chars)", short),
        ("long letters (>300)", long_),
        ("5000 chars (the maximum)", longest),
    ):
        avg = sum(map(len, texts)) / len(texts)
        times = "".join(f"{per_item_us(scan, texts):>14.0f}" for scan in scans.values())
        tagger_us = per_item_us(tagger.suggest, texts)
        print(f"{label:<28}{len(texts):>5}{avg:>10.0f}{times}{tagger_us:>11.0f}")


def sweep() -> None:
    """Train on 4/5 of the shipped examples, scan the rest; every threshold in one pass."""
    examples = _training_examples(())
    scores: list[tuple[bool, float]] = []  # (urgent, score: 1.0 for a lexicon hit)
    for fold in range(FOLDS):
        held = examples[fold::FOLDS]
        model = detect.train([e for i, e in enumerate(examples) if i % FOLDS != fold], version="cv")
        for text, category in held:
            hit = detect.scan(text, model, threshold=0.0)
            scores.append((category is not None, hit.score if hit else 0.0))
    urgent = [s for u, s in scores if u]
    other = [s for u, s in scores if not u]
    print(f"\n{FOLDS}-fold cross-validated threshold sweep on the shipped examples")
    print(f"({len(urgent)} urgent, {len(other)} ordinary; lexicon + learned part)")
    for th in SWEEP:
        mark = "  <- THRESHOLD" if th == detect.THRESHOLD else ""
        recall = sum(s >= th for s in urgent) / len(urgent)
        alarms = sum(s >= th for s in other) / len(other)
        print(f"  {th:<5} recall {recall:6.1%}  false alarms {alarms:5.1%}{mark}")


def pct(xs: Sequence[bool]) -> str:
    return f"{sum(xs) / len(xs):.1%} ({sum(xs)}/{len(xs)})" if xs else "—"


def accuracy(scans: dict[str, Scan]) -> None:
    print("\naccuracy (recall on urgent items, false alarms on ordinary ones)")
    print(
        f"{'set':<10}{'urgent':>7}{'other':>7}"
        + "".join(f"{name + ' recall':>22}{name + ' FA':>18}" for name in scans)
    )
    per_category: list[str] = []
    for label, name in SETS.items():
        data = rows(name)
        urgent = [r for r in data if r["urgent"]]
        other = [str(r["text"]) for r in data if not r["urgent"]]
        line = f"{label:<10}{len(urgent):>7}{len(other):>7}"
        for scan_name, scan in scans.items():
            caught = [scan(str(r["text"])) is not None for r in urgent]
            alarms = [scan(t) is not None for t in other]
            line += f"{pct(caught):>22}{pct(alarms):>18}"
            hit: Counter[str] = Counter()
            total: Counter[str] = Counter()
            for r, ok in zip(urgent, caught, strict=True):
                total[str(r["category"])] += 1
                hit[str(r["category"])] += ok
            per_category.append(
                f"{label} {scan_name}: "
                + ", ".join(
                    f"{detect.URGENT_CATEGORIES[c]} {hit[c]}/{total[c]}"
                    for c in detect.URGENT_CATEGORIES
                )
            )
        print(line)
    print("\nper category (recall)")
    print("\n".join(per_category))


def main() -> None:
    start = time.perf_counter()
    model = shipped_model()
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    train_shipped_model()
    trained = time.perf_counter() - start
    print(
        f"learned part: {len(model.vocab)} n-grams, threshold {detect.THRESHOLD}; the shipped "
        f"file loads in {loaded * 1000:.0f} ms, training it takes {trained:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        scans: dict[str, Scan] = {
            "old": baseline_scan(Path(tmp)),
            "new": lambda text: detect.scan(text, model),
        }
        print()
        speed(scans)
        sweep()
        accuracy(scans)


if __name__ == "__main__":
    main()
