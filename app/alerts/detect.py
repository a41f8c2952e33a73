"""Telling urgent items from the rest: a high-recall lexicon plus a learned sentence score.

Pure functions over text (no database): intake runs `scan` in the write path, so it must stay
a few regular expressions and one small sparse product per item (bench/alerts.py measures it).
Both parts read the text normalised (traditional -> simplified, full-width -> half-width),
which keeps every position, so evidence is quoted in the sender's own characters.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.models import URGENT_CATEGORIES
from app.tagging.text import normalize

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

DATA_DIR = Path(__file__).parent / "data"
LEXICON_PATH = DATA_DIR / "lexicon.json"
TRAIN_PATH = DATA_DIR / "train.jsonl"
# Training takes seconds, too long for a sender's request: the model trained on the shipped
# examples ships too, named by their digest (`yijian alerts retrain --shipped` rebuilds it).
SHIPPED_MODEL_PATH = DATA_DIR / "urgent-model.npz"
# A new name: models stored under the old bigram format's name are not read any more.
MODEL_NAME = "urgent-logreg"
# The learned part flags a sentence whose probability of not being ordinary reaches this. A
# missed self-harm letter costs far more than a glance at a false alarm, so it is the lowest
# threshold whose cross-validated false alarms stay under 7.5% (a margin below the 10% goal):
# the sweep in bench/alerts.py (recall 96.9%, false alarms 6.4%).
THRESHOLD = 0.3
_CLASSES: tuple[str | None, ...] = (None, *URGENT_CATEGORIES)
_MIN_DF = 2
# Shorter sentences ("李老师", "我女儿叫陈静") carry too few n-grams for the learned part to
# tell a topic from an incident; the lexicon alone judges them.
MIN_SENTENCE_CHARS = 7
_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_RUN = re.compile(r"\w+")
# The regular-expression parser of the standard library (no stubs): _alternation reads the
# characters each lexicon term can start with.
_parser: Any = importlib.import_module("re._parser")
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
        patterns={key: _alternation(terms) for key, terms in raw["categories"].items()},
        harmless_before=re.compile(raw["harmless_before"]),
        harmless_after=re.compile(raw["harmless_after"]),
    )


def _alternation(terms: list[str]) -> re.Pattern[str]:
    """One pattern for a category's terms. `re` tries every alternative at every position;
    a look-ahead on the characters a match can start with skips most positions at once
    (a 5000-character letter: ~30 ms -> ~4 ms over all categories)."""
    body = "|".join(f"(?:{t})" for t in terms)
    starts: set[str] = set()
    for term in terms:
        first = _first_chars(list(_parser.parse(term)))
        if first is None:
            return re.compile(body)
        starts |= first
    return re.compile(f"(?=[{''.join(map(re.escape, sorted(starts)))}])(?:{body})")


def _first_chars(items: list[tuple[Any, Any]]) -> set[str] | None:
    """The characters a parsed pattern must start with; None if it is not that simple."""
    if not items:
        return None
    op, av = items[0]
    if op is _parser.LITERAL:
        return {chr(av)}
    if op is _parser.IN:
        if any(o is not _parser.LITERAL for o, _ in av):
            return None
        return {chr(a) for _, a in av}
    branches = [list(av[3])] if op is _parser.SUBPATTERN else None
    if op is _parser.BRANCH:
        branches = [list(b) for b in av[1]]
    if branches is None:
        return None
    found: set[str] = set()
    for branch in branches:
        first = _first_chars(branch)
        if first is None:
            return None
        found |= first
    return found


def lexicon_hits(text: str, lexicon: Lexicon | None = None) -> dict[str, list[str]]:
    """Category -> the phrases that fired, skipping prevention and policy talk (防欺凌教育)."""
    return _match(normalize(text), lexicon or load_lexicon(), text)[0]


def _match(norm: str, lex: Lexicon, text: str) -> tuple[dict[str, list[str]], set[int]]:
    """The hits quoted from `text`, and the starts of the sentences where some match was only
    prevention or policy talk."""
    found: dict[str, list[str]] = {}
    harmless: set[int] = set()
    for key, pattern in lex.patterns.items():
        for match in pattern.finditer(norm):
            before = norm[max(0, match.start() - _WINDOW) : match.start()]
            after = norm[match.end() : match.end() + _WINDOW]
            if lex.harmless_before.search(before) or lex.harmless_after.search(after):
                harmless.update(a for a, b in _sentences(norm) if a <= match.start() < b)
                continue
            phrases = found.setdefault(key, [])
            phrase = text[match.start() : match.end()]
            if phrase not in phrases:
                phrases.append(phrase)
    return found, harmless


@dataclass(frozen=True)
class Model:
    """Character 1-3-gram TF-IDF and a multinomial logistic regression over ordinary (class 0)
    and the urgent categories (class 1 + i for the i-th key of URGENT_CATEGORIES)."""

    version: str
    vocab: dict[str, int]  # n-gram -> row of idf and weights
    idf: FloatArray  # (G,)
    weights: FloatArray  # (G, 1 + len(URGENT_CATEGORIES))
    bias: FloatArray  # (1 + len(URGENT_CATEGORIES),)


def _grams(sentence: str) -> set[str]:
    """The 1-3 character n-grams of a normalised sentence that do not cross punctuation."""
    grams: set[str] = set()
    for run in _RUN.findall(sentence):
        # map over str.__add__ builds the n-grams in C: scan runs in the write path.
        pairs = list(map(str.__add__, run, run[1:]))
        grams.update(run, pairs, map(str.__add__, pairs, run[2:]))
    return grams


def _sentences(norm: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: the danger in a long letter often sits in one of them."""
    return [m.span() for m in _SENTENCE.finditer(norm) if _RUN.search(m.group(0))]


def _examples(
    examples: Iterable[tuple[str, str | None]],
) -> tuple[list[set[str]], list[int], list[float]]:
    """Urgent examples whole, ordinary ones sentence by sentence (as scan sees them); a text
    given n times counts n times and its last label wins (a cleared false alarm overrides)."""
    labels: dict[str, int] = {}
    counts: Counter[str] = Counter()
    for text, category in examples:
        if category is not None and category not in URGENT_CATEGORIES:
            raise ValueError(f"unknown urgent category {category!r}")
        norm = normalize(text)
        units = [norm[a:b] for a, b in _sentences(norm)] if category is None else [norm]
        for unit in units:
            labels[unit] = 0 if category is None else _CLASSES.index(category)
            counts[unit] += 1
    units = list(labels)
    return [_grams(u) for u in units], [labels[u] for u in units], [float(counts[u]) for u in units]


def _softmax(scores: FloatArray) -> FloatArray:
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    out: FloatArray = z / z.sum(axis=1, keepdims=True)
    return out


def train(
    examples: Iterable[tuple[str, str | None]],
    *,
    version: str,
    l2: float = 1e-4,
    epochs: int = 200,
    lr: float = 0.05,
) -> Model:
    """Fit the logistic regression with full-batch Adam (class-weighted, see below)."""
    grams, y_list, counts = _examples(examples)
    if not grams:
        raise ValueError("no training examples")
    df: Counter[str] = Counter(g for gs in grams for g in gs)
    vocab = {g: i for i, g in enumerate(sorted(g for g, k in df.items() if k >= _MIN_DF))}
    id_lists = [[vocab[g] for g in gs if g in vocab] for gs in grams]
    # A unit without a known n-gram would only move the bias; leaving it out keeps every row
    # non-empty for the segment sums below.
    kept = [i for i, ids in enumerate(id_lists) if ids]
    n, k, f = len(kept), len(_CLASSES), len(vocab)
    idf = np.log((1 + len(grams)) / (1 + np.asarray([df[g] for g in vocab], dtype=np.float64))) + 1
    rows, ids = _sparse([id_lists[i] for i in kept])
    vals = _l2_rows(idf[ids].astype(np.float32), rows, n)
    row_starts = np.searchsorted(rows, np.arange(n))
    by_gram = np.argsort(ids, kind="stable")
    gram_starts = np.searchsorted(ids[by_gram], np.arange(f))
    y = np.asarray([y_list[i] for i in kept], dtype=np.int64)
    weight = np.asarray([counts[i] for i in kept], dtype=np.float64)
    # Ordinary sentences weigh as much as all urgent examples together, and the categories
    # the same among themselves: dozens of examples of one count as much as thousands of
    # ordinary sentences.
    share = np.full(k, 0.5 / (k - 1))
    share[0] = 0.5
    per_class = np.bincount(y, weights=weight, minlength=k)
    weight = (weight * (share / np.maximum(per_class, 1e-9))[y]).astype(np.float32)
    target = np.zeros((n, k), dtype=np.float32)
    target[np.arange(n), y] = 1.0
    params = [np.zeros((f, k), dtype=np.float32), np.zeros(k, dtype=np.float32)]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, epochs + 1):
        w, b = params
        scores = np.add.reduceat(w[ids] * vals[:, None], row_starts) + b
        g_scores = (_softmax(scores) - target) * weight[:, None]
        g_w = np.add.reduceat((g_scores[rows] * vals[:, None])[by_gram], gram_starts)
        for p, g, (m, v) in zip(params, (g_w + l2 * w, g_scores.sum(axis=0)), moments, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= lr * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
    return Model(version, vocab, idf.astype(np.float32), params[0], params[1])


def _sparse(id_lists: list[list[int]]) -> tuple[IntArray, IntArray]:
    lens = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(id_lists))
    ids = np.fromiter(chain.from_iterable(id_lists), dtype=np.int64, count=int(lens.sum()))
    return np.repeat(np.arange(len(id_lists)), lens), ids


def _l2_rows(raw: FloatArray, rows: IntArray, n: int) -> FloatArray:
    norms = np.sqrt(np.bincount(rows, weights=raw * raw, minlength=n))
    out: FloatArray = (raw / np.maximum(norms, 1e-9)[rows]).astype(np.float32)
    return out


def sentence_scores(model: Model, norm: str, spans: list[tuple[int, int]]) -> FloatArray:
    """Per sentence span, the probability of each class (ordinary first).

    One sentence at a time: a letter has a few, and a handful of numpy calls on each costs
    less than building one sparse batch (the scan runs in the write path).
    """
    scores = np.tile(model.bias, (len(spans), 1))
    for row, (a, b) in zip(scores, spans, strict=True):
        ids = [model.vocab[g] for g in _grams(norm[a:b]) if g in model.vocab]
        if ids:
            raw = model.idf[ids]
            row += (raw / max(float(np.sqrt(raw @ raw)), 1e-9)) @ model.weights[ids]
    return _softmax(scores)


def model_score(
    model: Model, text: str, *, skip: frozenset[int] = frozenset()
) -> tuple[str | None, float, str]:
    """The most urgent sentence (those starting at `skip` left out): its best category,
    1 - P(ordinary), and the sentence in the sender's characters."""
    norm = normalize(text)
    spans = [
        (a, b)
        for a, b in _sentences(norm)
        if a not in skip and sum(map(len, _RUN.findall(norm[a:b]))) >= MIN_SENTENCE_CHARS
    ]
    probs = sentence_scores(model, norm, spans)
    if not len(probs):
        return None, 0.0, ""
    best = int(np.argmin(probs[:, 0]))
    category = _CLASSES[1 + int(np.argmax(probs[best, 1:]))]
    a, b = spans[best]
    return category, float(1.0 - probs[best, 0]), text[a:b].strip()


def scan(text: str, model: Model | None = None, *, threshold: float = THRESHOLD) -> Hit | None:
    """Whether an item is urgent: the lexicon first, the learned score for what it misses."""
    found, harmless = _match(normalize(text), load_lexicon(), text)
    if found:
        order = [k for k in URGENT_CATEGORIES if k in found]
        return Hit(order, [p for k in order for p in found[k]][:10], "lexicon", 1.0)
    if model is None:
        return None
    # Prevention talk (预防食物中毒讲座) shares the incident's words: its sentences are skipped.
    category, score, sentence = model_score(model, text, skip=frozenset(harmless))
    if category is None or score < threshold:
        return None
    return Hit([category], [sentence[:60]], "model", round(score, 3))


def to_bytes(model: Model) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        version=np.asarray(model.version),
        grams=np.asarray(list(model.vocab)),
        idf=model.idf,
        weights=model.weights,
        bias=model.bias,
    )
    return buf.getvalue()


def from_bytes(data: bytes) -> Model:
    with np.load(io.BytesIO(data), allow_pickle=False) as raw:
        vocab = {str(g): i for i, g in enumerate(raw["grams"].tolist())}
        return Model(str(raw["version"]), vocab, raw["idf"], raw["weights"], raw["bias"])


def examples_digest(examples: Iterable[tuple[str, str | None]]) -> str:
    """A short digest of training examples: the shipped model is theirs if its version says so."""
    data = json.dumps(list(examples), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def read_training(path: Path = TRAIN_PATH) -> list[tuple[str, str | None]]:
    """The shipped urgent examples: {"text", "category"} lines, category null for ordinary."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            rows.append((str(obj["text"]), obj["category"]))
    return rows
