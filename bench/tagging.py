"""Benchmark and accuracy report for the five-checks tagger (run: python bench/tagging.py).

Prints load time, suggest_many throughput on one core, suggest latency, peak RSS, and
top-1/top-2 accuracy and the check-0 rate on the dev set, the holdout set and (with --cv)
5-fold cross-validation on the shipped corpus.
"""

from __future__ import annotations

import os

# One core: numpy's BLAS must not fan out to other threads, and this must be set before
# numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

t0 = time.perf_counter()
from app.tagging import evaluate, format_report, load_tagger, read_examples, train  # noqa: E402
from app.tagging.ngram import NgramTagger  # noqa: E402
from app.tagging.registry import CORPUS_PATH  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "tagging-dev.jsonl"
HOLDOUT = ROOT / "tests" / "tagging" / "holdout.jsonl"


def line(label: str, report_path: Path, tagger: NgramTagger | object) -> None:
    if not report_path.exists():
        print(f"{label}: {report_path} not found, skipped")
        return
    r = evaluate(tagger, read_examples(report_path))  # type: ignore[arg-type]
    print(
        f"{label}: n={r.n} top-1={r.accuracy:.3f} top-2={r.top2_accuracy:.3f} "
        f"check-0 rate on 1-5 items={r.zero_rate:.3f}"
    )


def cross_validate(folds: int) -> None:
    data = read_examples(CORPUS_PATH)
    random.Random(0).shuffle(data)
    top1 = top2 = zero = real = 0
    for k in range(folds):
        test = data[k::folds]
        train_set = [x for i, x in enumerate(data) if i % folds != k]
        r = evaluate(NgramTagger(train(train_set)), test)
        top1 += round(r.accuracy * r.n)
        top2 += round(r.top2_accuracy * r.n)
        nonzero = sum(s.support for c, s in r.per_check.items() if c)
        zero += round(r.zero_rate * nonzero)
        real += nonzero
    n = len(data)
    print(
        f"{folds}-fold CV on corpus: n={n} top-1={top1 / n:.3f} top-2={top2 / n:.3f} "
        f"check-0 rate on 1-5 items={zero / real:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20_000, help="texts for the throughput run")
    ap.add_argument("--min-len", type=int, default=20, help="shortest synthetic text")
    ap.add_argument("--max-len", type=int, default=300, help="longest synthetic text")
    ap.add_argument("--cv", action="store_true", help="also run 5-fold cross-validation")
    ap.add_argument("--report", action="store_true", help="print the full dev-set report")
    args = ap.parse_args()

    t1 = time.perf_counter()
    tagger = load_tagger()
    tagger.suggest("预热")  # first call builds the traditional->simplified table
    t2 = time.perf_counter()
    print(f"tagger {tagger.name} {tagger.version}")
    print(f"import: {t1 - t0:.3f} s, model load + first call: {t2 - t1:.3f} s")

    # Realistic texts (20-300 chars by default): corpus sentences joined up to a random length.
    rng = random.Random(1)
    sentences = [t for t, _ in read_examples(CORPUS_PATH)]
    texts = []
    for _ in range(args.n):
        target, text = rng.randint(args.min_len, args.max_len), ""
        while len(text) < target:
            text += rng.choice(sentences)
        texts.append(text[:target])
    mean_len = statistics.mean(map(len, texts))
    batch = 512
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        tagger.suggest_many(texts[i : i + batch])
    elapsed = time.perf_counter() - start
    print(
        f"suggest_many: {len(texts) / elapsed:,.0f} texts/s on one core "
        f"(batches of {batch}, mean length {mean_len:.0f} chars)"
    )
    lat = []
    for text in texts[:2000]:
        s = time.perf_counter()
        tagger.suggest(text)
        lat.append(time.perf_counter() - s)
    lat.sort()
    print(
        f"suggest latency: median {lat[len(lat) // 2] * 1e3:.2f} ms, "
        f"p99 {lat[int(len(lat) * 0.99)] * 1e3:.2f} ms"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    line("dev set", DEV, tagger)
    line("holdout set", HOLDOUT, tagger)
    if args.report and DEV.exists():
        print(format_report(evaluate(tagger, read_examples(DEV))))
    if args.cv:
        cross_validate(5)


if __name__ == "__main__":
    main()
