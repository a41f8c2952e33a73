"""Benchmark and accuracy report for the five-checks tagger (run: python bench/tagging.py).

Prints, for the shipped model and for the baseline model kept under bench/data (the model
before letters were in the corpus) in the same run: load time, suggest_many throughput on
one core for short texts and for long letters (texts/s, ms per letter), suggest latency,
memory, and accuracy (top-1, top-2, acceptable = top-1 or an "also" reading, and the
check-0 rate) on the short dev and holdout sets and on the letters dev and holdout sets.
--cv adds 5-fold cross-validation on the letters corpus (trained with the short corpus and
the other folds); --levers prints the table of training levers measured one by one.
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
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

t0 = time.perf_counter()
from app.tagging import Tagger, evaluate, load_tagger, ngram, read_examples  # noqa: E402
from app.tagging.registry import (  # noqa: E402
    CORPUS_PATH,
    DATA_DIR,
    LETTERS_GLOB,
    SENTENCE_WEIGHT,
    TITLE_WEIGHT,
    load_lexicon,
    read_also,
)

SHARED = ROOT.parent / "shared" / "data"
DEV = SHARED / "tagging-dev.jsonl"
HOLDOUT = ROOT / "tests" / "tagging" / "holdout.jsonl"
LETTERS_DEV = SHARED / "tagging-letters-dev.jsonl"
LETTERS_HOLDOUT = ROOT / "tests" / "tagging" / "letters-holdout.jsonl"
BASELINE = ROOT / "bench" / "data" / "tagger-ngram-20261126T143808839173Z.npz"
Example = tuple[str, int]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def accuracy(tagger: Tagger, path: Path) -> str:
    if not path.exists():
        return f"{path.name}: not found"
    r = evaluate(tagger, read_examples(path), also=read_also(path))
    return (
        f"{path.name}: n={r.n} top-1={r.accuracy:.3f} top-2={r.top2_accuracy:.3f} "
        f"acceptable={r.acceptable:.3f} check-0 on 1-5={r.zero_rate:.3f}"
    )


def throughput(tagger: Tagger, texts: Sequence[str], label: str) -> None:
    batch = 512
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        tagger.suggest_many(texts[i : i + batch])
    elapsed = time.perf_counter() - start
    lat = []
    for text in texts[:1000]:
        s = time.perf_counter()
        tagger.suggest(text)
        lat.append(time.perf_counter() - s)
    lat.sort()
    print(
        f"  {label} (mean {statistics.mean(map(len, texts)):.0f} chars): "
        f"{len(texts) / elapsed:,.0f} texts/s in batches of {batch}; one at a time "
        f"median {lat[len(lat) // 2] * 1e3:.2f} ms, p99 {lat[int(len(lat) * 0.99)] * 1e3:.2f} ms"
    )


def short_texts(n: int, rng: random.Random) -> list[str]:
    """Corpus sentences joined up to 20-300 chars, as suggestions typed into the form."""
    sentences = [t for t, _ in read_examples(CORPUS_PATH)]
    texts = []
    for _ in range(n):
        target, text = rng.randint(20, 300), ""
        while len(text) < target:
            text += rng.choice(sentences)
        texts.append(text[:target])
    return texts


def long_letters(n: int) -> list[str]:
    letters = [
        t
        for path in (LETTERS_DEV, LETTERS_HOLDOUT)
        if path.exists()
        for t, _ in read_examples(path)
    ]
    return (letters * (n // max(len(letters), 1) + 1))[:n]


def letters_corpus() -> tuple[list[Example], list[tuple[int, ...]]]:
    paths = sorted(DATA_DIR.glob(LETTERS_GLOB))
    return (
        [e for p in paths for e in read_examples(p)],
        [a for p in paths for a in read_also(p)],
    )


def cross_validate(
    folds: int, *, with_letters: bool, title_weight: float, sentence_weight: float
) -> str:
    """Letters-corpus folds, each scored by a model trained on the short corpus (plus the
    other folds with_letters)."""
    short = read_examples(CORPUS_PATH)
    letters, also = letters_corpus()
    order = list(range(len(letters)))
    random.Random(0).shuffle(order)
    exact = ok = lost = real = 0
    for k in range(folds):
        test = order[k::folds]
        train = short + [letters[i] for i in order if with_letters and i not in set(test)]
        model = ngram.train(
            train, load_lexicon(), title_weight=title_weight, sentence_weight=sentence_weight
        )
        tagger = ngram.NgramTagger(model)
        r = evaluate(tagger, [letters[i] for i in test], also=[also[i] for i in test])
        exact += round(r.accuracy * r.n)
        ok += round((r.acceptable or 0.0) * r.n)
        nonzero = sum(s.support for c, s in r.per_check.items() if c)
        lost += round(r.zero_rate * nonzero)
        real += nonzero
    n = len(letters)
    return (
        f"CV letters n={n} top-1={exact / n:.3f} acceptable={ok / n:.3f} check-0={lost / real:.3f}"
    )


def levers() -> None:
    """Each lever on top of the previous one: (a) baseline, (b) + letters, (c) + title,
    (d) + sentences."""
    short = read_examples(CORPUS_PATH)
    letters, _ = letters_corpus()
    rows: list[tuple[str, Tagger, str]] = [
        (
            "(a) baseline (short corpus)",
            ngram.NgramTagger(ngram.load(BASELINE)),
            cross_validate(5, with_letters=False, title_weight=0.0, sentence_weight=0.0),
        ),
        (
            "(b) + letters corpus",
            ngram.NgramTagger(ngram.train(short + letters, load_lexicon())),
            cross_validate(5, with_letters=True, title_weight=0.0, sentence_weight=0.0),
        ),
        (
            f"(c) + title weight {TITLE_WEIGHT}",
            ngram.NgramTagger(
                ngram.train(short + letters, load_lexicon(), title_weight=TITLE_WEIGHT)
            ),
            cross_validate(5, with_letters=True, title_weight=TITLE_WEIGHT, sentence_weight=0.0),
        ),
        (
            f"(d) + sentence scores, weight {SENTENCE_WEIGHT}",
            ngram.NgramTagger(
                ngram.train(
                    short + letters,
                    load_lexicon(),
                    title_weight=TITLE_WEIGHT,
                    sentence_weight=SENTENCE_WEIGHT,
                )
            ),
            cross_validate(
                5, with_letters=True, title_weight=TITLE_WEIGHT, sentence_weight=SENTENCE_WEIGHT
            ),
        ),
    ]
    for label, tagger, cv in rows:
        print(label)
        for path in (LETTERS_DEV, LETTERS_HOLDOUT, HOLDOUT):
            print("  " + accuracy(tagger, path))
        print("  " + cv)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20_000, help="short texts for the throughput run")
    ap.add_argument("--letters", type=int, default=2_000, help="letters for the throughput run")
    ap.add_argument("--cv", action="store_true", help="also cross-validate on the letters")
    ap.add_argument("--levers", action="store_true", help="print the levers table and stop")
    args = ap.parse_args()
    if args.levers:
        levers()
        return

    rss0 = rss_mb()
    t1 = time.perf_counter()
    shipped = load_tagger()
    shipped.suggest("预热")  # first call builds the traditional->simplified table
    t2 = time.perf_counter()
    baseline = ngram.NgramTagger(ngram.load(BASELINE))
    t3 = time.perf_counter()
    print(
        f"import: {t1 - t0:.3f} s; shipped model load + first call: {t2 - t1:.3f} s "
        f"(+{rss_mb() - rss0:.0f} MB peak RSS), baseline load: {t3 - t2:.3f} s"
    )
    short, letters = short_texts(args.n, random.Random(1)), long_letters(args.letters)
    for label, tagger in (("baseline", baseline), ("shipped", shipped)):
        print(f"{label} {tagger.version}")
        throughput(tagger, short, "short texts")
        throughput(tagger, letters, "letters")
        for path in (DEV, HOLDOUT, LETTERS_DEV, LETTERS_HOLDOUT):
            print("  " + accuracy(tagger, path))
    print(f"peak RSS: {rss_mb():.0f} MB")
    if args.cv:
        print(
            cross_validate(
                5, with_letters=True, title_weight=TITLE_WEIGHT, sentence_weight=SENTENCE_WEIGHT
            )
        )


if __name__ == "__main__":
    main()
