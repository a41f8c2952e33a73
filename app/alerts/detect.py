"""Telling urgent items from the rest: a high-recall lexicon plus a small learned n-gram score.

Pure functions over text (no database): intake runs `scan` in the write path, so it must stay
a few regular expressions and dictionary look-ups per item (bench/alerts.py measures it).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.models import URGENT_CATEGORIES

DATA_DIR = Path(__file__).parent / "data"
LEXICON_PATH = DATA_DIR / "lexicon.json"
TRAIN_PATH = DATA_DIR / "train.jsonl"
MODEL_NAME = "urgent-ngram"
# The learned part flags a sentence whose log-odds for one category exceeds this; chosen on
# the training data so that it adds recall without flooding the queue (bench/alerts.py).
THRESHOLD = 5.0
_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_WINDOW = 4  # characters looked at either side of a match for prevention or policy talk


@dataclass(frozen=True)
class Lexicon:
    patterns: dict[str, re.Pattern[str]]
    harmless_before: re.Pattern[str]
    harmless_after: re.Pattern[str]


@dataclass(frozen=True)
class Hit:
    categories: list[str]  # keys of URGENT_CATEGORIES, in its order
    evidence: list[str]
    source: str  # "lexicon" or "model"
    score: float


@cache
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The shipped lexicon, one alternation per category."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(raw["categories"]) - set(URGENT_CATEGORIES)
    if unknown:
        raise ValueError(f"unknown urgent categories in {path}: {sorted(unknown)}")
    return Lexicon(
        patterns={
            key: re.compile("|".join(f"(?:{p})" for p in terms))
            for key, terms in raw["categories"].items()
        },
        harmless_before=re.compile(raw["harmless_before"]),
        harmless_after=re.compile(raw["harmless_after"]),
    )


def lexicon_hits(text: str, lexicon: Lexicon | None = None) -> dict[str, list[str]]:
    """Category -> the phrases that fired, skipping prevention and policy talk (防欺凌教育)."""
    return _match(text, lexicon or load_lexicon())[0]


def _match(text: str, lex: Lexicon) -> tuple[dict[str, list[str]], bool]:
    """The hits, and whether some match was only prevention or policy talk."""
    found: dict[str, list[str]] = {}
    harmless = False
    for key, pattern in lex.patterns.items():
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - _WINDOW) : match.start()]
            after = text[match.end() : match.end() + _WINDOW]
            if lex.harmless_before.search(before) or lex.harmless_after.search(after):
                harmless = True
                continue
            phrases = found.setdefault(key, [])
            if match.group(0) not in phrases:
                phrases.append(match.group(0))
    return found, harmless


@dataclass(frozen=True)
class Model:
    """Per character bigram, its log-odds for each category against ordinary messages."""

    version: str
    weights: dict[str, dict[str, float]]
    bias: dict[str, float]


def _grams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


def train(examples: Iterable[tuple[str, str | None]], *, version: str) -> Model:
    """Naive Bayes log-odds from (text, category or None); rare bigrams are left out."""
    counts: dict[str | None, Counter[str]] = {}
    docs: Counter[str | None] = Counter()
    for text, category in examples:
        counts.setdefault(category, Counter()).update(set(_grams(text)))
        docs[category] += 1
    normal = counts.get(None, Counter())
    n_normal = docs[None] + 2
    weights: dict[str, dict[str, float]] = {}
    bias: dict[str, float] = {}
    for category in URGENT_CATEGORIES:
        seen = counts.get(category)
        if not seen:
            continue
        n_cat = docs[category] + 2
        bias[category] = -2.0
        for gram, k in seen.items():
            if k < 2:
                continue
            w = math.log((k + 1) / n_cat) - math.log((normal[gram] + 1) / n_normal)
            if w > 0.5:
                weights.setdefault(gram, {})[category] = round(w, 3)
    return Model(version=version, weights=weights, bias=bias)


def model_score(model: Model, text: str) -> tuple[str | None, float, str]:
    """The best (category, score, sentence) over the text's sentences."""
    best: tuple[str | None, float, str] = (None, float("-inf"), "")
    for sentence in _SENTENCE.findall(text):
        totals = dict(model.bias)
        for gram in set(_grams(sentence)):
            for category, w in model.weights.get(gram, {}).items():
                totals[category] += w
        for category, total in totals.items():
            if total > best[1]:
                best = (category, total, sentence.strip())
    return best


def scan(text: str, model: Model | None = None) -> Hit | None:
    """Whether an item is urgent: the lexicon first, the learned score for what it misses."""
    found, harmless = _match(text, load_lexicon())
    if found:
        order = [k for k in URGENT_CATEGORIES if k in found]
        return Hit(order, [p for k in order for p in found[k]][:10], "lexicon", 1.0)
    # Prevention talk (预防食物中毒讲座) shares the incident's words: the model would fire too.
    if model is None or harmless:
        return None
    category, score, sentence = model_score(model, text)
    if category is None or score < THRESHOLD:
        return None
    return Hit([category], [sentence[:60]], "model", round(score, 2))


def to_bytes(model: Model) -> bytes:
    return json.dumps(
        {"version": model.version, "weights": model.weights, "bias": model.bias},
        ensure_ascii=False,
    ).encode()


def from_bytes(data: bytes) -> Model:
    raw = json.loads(data)
    return Model(version=raw["version"], weights=raw["weights"], bias=raw["bias"])


def read_training(path: Path = TRAIN_PATH) -> list[tuple[str, str | None]]:
    """The shipped urgent examples: {"text", "category"} lines, category null for ordinary."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            rows.append((str(obj["text"]), obj["category"]))
    return rows
