"""Accuracy figures for a tagger on labelled examples."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from app.tagging.base import CHECKS, Tagger

BATCH = 512


@dataclass(frozen=True)
class CheckStats:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvalReport:
    n: int
    accuracy: float
    top2_accuracy: float
    zero_rate: float  # share of real suggestions (label 1-5) tagged 0: those would be lost
    per_check: dict[int, CheckStats]
    confusion: list[list[int]]  # confusion[true][predicted]
    # Share whose top-1 is the check or one of its acceptable second readings ("also").
    acceptable: float | None = None


def evaluate(
    tagger: Tagger,
    examples: Iterable[tuple[str, int]],
    *,
    also: Sequence[Collection[int]] | None = None,
) -> EvalReport:
    """Accuracy of tagger on examples; also[i] lists example i's acceptable second readings."""
    data = list(examples)
    confusion = [[0] * len(CHECKS) for _ in CHECKS]
    top2 = ok = 0
    for start in range(0, len(data), BATCH):
        chunk = data[start : start + BATCH]
        suggestions = tagger.suggest_many([t for t, _ in chunk])
        for i, ((_, truth), s) in enumerate(zip(chunk, suggestions, strict=True), start):
            confusion[truth][s.check] += 1
            top2 += truth in (c for c, _ in s.ranked[:2])
            ok += s.check == truth or (also is not None and s.check in also[i])
    n = len(data)
    per_check = {}
    for c in CHECKS:
        tp = confusion[c][c]
        predicted = sum(row[c] for row in confusion)
        support = sum(confusion[c])
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        per_check[c] = CheckStats(p, r, 2 * p * r / (p + r) if p + r else 0.0, support)
    real = sum(sum(confusion[c]) for c in CHECKS if c != 0)
    lost = sum(confusion[c][0] for c in CHECKS if c != 0)
    return EvalReport(
        n=n,
        accuracy=sum(confusion[c][c] for c in CHECKS) / n if n else 0.0,
        top2_accuracy=top2 / n if n else 0.0,
        zero_rate=lost / real if real else 0.0,
        per_check=per_check,
        confusion=confusion,
        acceptable=ok / n if n and also is not None else None,
    )


def format_report(report: EvalReport) -> str:
    lines = [
        f"examples: {report.n}",
        f"top-1 accuracy: {report.accuracy:.3f}",
        f"top-2 accuracy: {report.top2_accuracy:.3f}",
        *([] if report.acceptable is None else [f"acceptable: {report.acceptable:.3f}"]),
        f"suggestions (1-5) tagged 0: {report.zero_rate:.3f}",
        "",
        "check  precision  recall     f1  support",
    ]
    for c, s in report.per_check.items():
        lines.append(f"{c:>5}  {s.precision:>9.3f}  {s.recall:>6.3f}  {s.f1:>5.3f}  {s.support:>7}")
    lines += [
        "",
        "confusion (rows: true, columns: predicted)",
        "      " + "".join(f"{c:>5}" for c in CHECKS),
    ]
    for c, row in zip(CHECKS, report.confusion, strict=True):
        lines.append(f"{c:>5} " + "".join(f"{v:>5}" for v in row))
    return "\n".join(lines)
