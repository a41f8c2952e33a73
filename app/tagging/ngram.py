"""Character n-gram TF-IDF + lexicon features with a multinomial logistic regression.

Inference needs only numpy and the stdlib so the model loads in milliseconds and a batch of
texts is scored with a handful of vectorised numpy calls; only feature extraction and the
evidence spans are per-text Python.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.tagging.base import CHECKS, Suggestion, make_suggestion
from app.tagging.text import cjk_count, normalize

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

NAME = "ngram"
N_CHECKS = len(CHECKS)
PAD = "\x00"  # feature 0: zero-weight placeholder so that no text has an empty feature row
TERM_PREFIX = "~"  # lexicon terms are features of their own, apart from same-looking n-grams
MIN_DF = 2
EVIDENCE_MAX = 5
# Texts without any CJK character ("123", "test", emoji) are never a suggestion about a check.
NO_CJK_PROBS = (0.95, 0.01, 0.01, 0.01, 0.01, 0.01)
_PUNCT = " \t\r\n,.;:!?，。；：！？、…·\"'“”‘’()（）[]【】《》<>-—~～"


@dataclass(frozen=True)
class NgramModel:
    version: str
    vocab: list[str]
    idf: FloatArray  # (F,)
    weights: FloatArray  # (F, 6), centred per feature: a feature's row sums to 0
    lex_weights: FloatArray  # (6, 6): lexicon-hit count of check i -> score of check j
    bias: FloatArray  # (6,)
    lexicon: dict[str, int]  # term -> check

    @property
    def file_name(self) -> str:
        return f"tagger-{self.version}.npz"


def new_version() -> str:
    return f"{NAME}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def _grams(text: str) -> set[str]:
    n = len(text)
    grams = set(text)
    grams.update([text[i : i + 2] for i in range(n - 1)])
    grams.update([text[i : i + 3] for i in range(n - 2)])
    return grams


class _Featurizer:
    """Maps normalised text to sparse feature ids and per-check lexicon hit counts."""

    def __init__(self, vocab: Sequence[str], lexicon: dict[str, int]) -> None:
        self.index = {g: i for i, g in enumerate(vocab)}
        self.lexicon = lexicon
        # Terms are found through their first two characters, which are bigrams already
        # extracted: a set intersection instead of testing every term against every text.
        self.by_head: dict[str, list[str]] = {}
        for term in lexicon:
            self.by_head.setdefault(term[:2], []).append(term)

    def terms(self, text: str, grams: set[str]) -> list[str]:
        found: list[str] = []
        for head in grams.intersection(self.by_head):
            found.extend(t for t in self.by_head[head] if t in text)
        return found

    def features(self, text: str) -> tuple[list[int], list[str]]:
        grams = _grams(text)
        terms = self.terms(text, grams)
        get = self.index.get
        ids = [0]
        ids.extend(i for i in map(get, grams) if i is not None)
        ids.extend(i for i in (get(TERM_PREFIX + t) for t in terms) if i is not None)
        return ids, terms


@dataclass
class _Batch:
    ids: IntArray  # concatenated feature ids of all rows
    vals: FloatArray  # L2-normalised tf-idf values
    starts: IntArray  # row start offsets into ids
    lex: FloatArray  # (B, 6) lexicon hit counts
    terms: list[list[str]]


def _batch(feat: _Featurizer, idf: FloatArray, texts: Sequence[str]) -> _Batch:
    all_ids: list[int] = []
    starts: list[int] = []
    lex = np.zeros((len(texts), N_CHECKS), dtype=np.float32)
    terms_per_row = []
    for row, text in enumerate(texts):
        ids, terms = feat.features(text)
        starts.append(len(all_ids))
        all_ids.extend(ids)
        terms_per_row.append(terms)
        for t in terms:
            lex[row, feat.lexicon[t]] += 1.0
    ids_arr = np.asarray(all_ids, dtype=np.int64)
    starts_arr = np.asarray(starts, dtype=np.int64)
    raw = idf[ids_arr]
    norms = np.sqrt(np.add.reduceat(raw * raw, starts_arr))
    rows = np.repeat(np.arange(len(texts)), np.diff(np.append(starts_arr, len(ids_arr))))
    vals: FloatArray = (raw / np.maximum(norms, 1e-9)[rows]).astype(np.float32)
    # Diminishing returns for many hits of one check's lexicon.
    return _Batch(ids_arr, vals, starts_arr, np.log1p(lex), terms_per_row)


def _softmax(scores: FloatArray) -> FloatArray:
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


def train(
    examples: Iterable[tuple[str, int]],
    lexicon: dict[str, int],
    *,
    l2: float = 1e-4,
    lex_l2: float = 1e-2,
    epochs: int = 300,
    lr: float = 0.05,
) -> NgramModel:
    """Fit the model with full-batch Adam; later duplicates of a text override earlier ones."""
    labelled: dict[str, int] = {}
    for text, check in examples:
        if check not in CHECKS:
            raise ValueError(f"check must be one of {CHECKS}, got {check!r}")
        labelled[normalize(text)] = check
    texts = list(labelled)
    y = np.asarray([labelled[t] for t in texts], dtype=np.int64)
    if len(texts) == 0:
        raise ValueError("no training examples")

    df: dict[str, int] = {}
    probe = _Featurizer([], lexicon)
    for text in texts:
        grams = _grams(text)
        grams.update(TERM_PREFIX + t for t in probe.terms(text, grams))
        for g in grams:
            df[g] = df.get(g, 0) + 1
    vocab = [PAD, *sorted(g for g, n in df.items() if n >= MIN_DF or g.startswith(TERM_PREFIX))]
    n = len(texts)
    idf = np.asarray(
        [0.0] + [np.log((1 + n) / (1 + df[g])) + 1.0 for g in vocab[1:]], dtype=np.float32
    )
    feat = _Featurizer(vocab, lexicon)
    batch = _batch(feat, idf, texts)
    rows = np.repeat(np.arange(n), np.diff(np.append(batch.starts, len(batch.ids))))

    f = len(vocab)
    target = np.zeros((n, N_CHECKS), dtype=np.float32)
    target[np.arange(n), y] = 1.0
    # The lexicon is a prior: its weights start at, and are pulled towards, "a hit for
    # check c votes for c", and the data may move them away from it.
    lex_prior = np.eye(N_CHECKS, dtype=np.float32)
    params = [
        np.zeros((f, N_CHECKS), dtype=np.float32),
        lex_prior.copy(),
        np.zeros(N_CHECKS, dtype=np.float32),
    ]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, epochs + 1):
        w, lw, b = params
        scores = (
            np.add.reduceat(w[batch.ids] * batch.vals[:, None], batch.starts) + batch.lex @ lw + b
        )
        g_scores = (_softmax(scores) - target) / n
        g_rows = g_scores[rows] * batch.vals[:, None]
        g_w = np.stack(
            [np.bincount(batch.ids, weights=g_rows[:, k], minlength=f) for k in range(N_CHECKS)],
            axis=1,
        ).astype(np.float32)
        grads = [
            g_w + l2 * w,
            batch.lex.T @ g_scores + lex_l2 * (lw - lex_prior),
            g_scores.sum(axis=0),
        ]
        for p, g, (m, v) in zip(params, grads, moments, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= lr * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
    w, lw, b = params
    return NgramModel(
        version=new_version(),
        vocab=vocab,
        idf=idf,
        weights=(w - w.mean(axis=1, keepdims=True)).astype(np.float32),
        lex_weights=lw.astype(np.float32),
        bias=b.astype(np.float32),
        lexicon=dict(lexicon),
    )


def save(model: NgramModel, directory: Path) -> Path:
    """Write the model atomically (temp file + rename) so readers never see half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / model.file_name
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(
                fh,
                version=np.asarray(model.version),
                vocab=np.asarray(model.vocab),
                idf=model.idf,
                weights=model.weights,
                lex_weights=model.lex_weights,
                bias=model.bias,
                lex_terms=np.asarray(list(model.lexicon)),
                lex_checks=np.asarray(list(model.lexicon.values()), dtype=np.int64),
            )
        # mkstemp creates the file private; a model is not secret and other users may read it.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: Path) -> NgramModel:
    with np.load(path, allow_pickle=False) as data:
        return NgramModel(
            version=str(data["version"]),
            vocab=data["vocab"].tolist(),
            idf=data["idf"].astype(np.float32),
            weights=data["weights"].astype(np.float32),
            lex_weights=data["lex_weights"].astype(np.float32),
            bias=data["bias"].astype(np.float32),
            lexicon=dict(zip(data["lex_terms"].tolist(), data["lex_checks"].tolist(), strict=True)),
        )


class NgramTagger:
    """Tagger backed by an NgramModel; immutable, so safe to share between threads."""

    name = NAME

    def __init__(self, model: NgramModel) -> None:
        self.model = model
        self.version = model.version
        self._feat = _Featurizer(model.vocab, model.lexicon)

    def suggest(self, text: str) -> Suggestion:
        return self.suggest_many([text])[0]

    def suggest_many(self, texts: Sequence[str]) -> list[Suggestion]:
        if not texts:
            return []
        m = self.model
        norm = [normalize(t) for t in texts]
        batch = _batch(self._feat, m.idf, norm)
        scores = (
            np.add.reduceat(m.weights[batch.ids] * batch.vals[:, None], batch.starts)
            + batch.lex @ m.lex_weights
            + m.bias
        )
        probs = _softmax(scores)
        chosen = probs.argmax(axis=1)
        rows = np.repeat(np.arange(len(texts)), np.diff(np.append(batch.starts, len(batch.ids))))
        contrib = m.weights[batch.ids, chosen[rows]] * batch.vals
        # One sort groups every row's features by decreasing contribution.
        order = np.lexsort((-contrib, rows))
        ends = np.append(batch.starts[1:], len(batch.ids))
        order_l = order.tolist()
        contrib_l = contrib.tolist()
        ids_l = batch.ids.tolist()
        out = []
        for i, (orig, text) in enumerate(zip(texts, norm, strict=True)):
            if cjk_count(text) == 0:
                out.append(make_suggestion(NO_CJK_PROBS, []))
                continue
            c = int(chosen[i])
            top = [
                (m.vocab[ids_l[j]], contrib_l[j])
                for j in order_l[batch.starts[i] : ends[i]][:10]
                if contrib_l[j] > 0
            ]
            lex_w = m.lex_weights[:, c] - m.lex_weights.mean(axis=1)
            top.extend((t, float(lex_w[m.lexicon[t]])) for t in batch.terms[i])
            out.append(make_suggestion(probs[i].tolist(), _evidence(orig, text, top)))
        return out


def _evidence(orig: str, text: str, top: list[tuple[str, float]]) -> list[str]:
    """Turn the top features into readable phrases of the original text.

    Overlapping or touching n-grams are merged into one span ("有偿"+"补课" -> "有偿补课"), and
    spans are quoted from the original text (normalisation keeps positions), so a
    traditional-character message gets traditional evidence.
    """
    spans: list[tuple[int, int, float]] = []
    for feature, weight in top:
        if weight <= 0:
            continue
        g = feature.removeprefix(TERM_PREFIX)
        pos = text.find(g)
        if pos >= 0:
            spans.append((pos, pos + len(g), weight))
    spans.sort()
    merged: list[tuple[int, int, float]] = []
    for s, e, w in spans:
        if merged and s <= merged[-1][1]:
            ms, me, mw = merged[-1]
            merged[-1] = (ms, max(me, e), mw + w)
        else:
            merged.append((s, e, w))
    merged.sort(key=lambda m: -m[2])
    src = orig if len(orig) == len(text) else text
    phrases: list[str] = []
    for s, e, _ in merged:
        phrase = src[s:e].strip(_PUNCT)
        if len(phrase) >= 2 and phrase not in phrases:
            phrases.append(phrase)
        if len(phrases) == EVIDENCE_MAX:
            break
    return phrases
