"""Character n-gram TF-IDF + lexicon features with a multinomial logistic regression.

Inference needs only numpy and the stdlib so the model loads in milliseconds and a batch of
texts is scored with a handful of vectorised numpy calls; only feature extraction and the
evidence spans are per-text Python.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from app.tagging.base import CHECKS, Concern, Suggestion, make_suggestion
from app.tagging.text import has_cjk, normalize

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

NAME = "ngram"
N_CHECKS = len(CHECKS)
MIN_DF = 2
EVIDENCE_MAX = 5
EVIDENCE_FEATURES = 10  # top features per text considered for evidence phrases
# Losing a real suggestion in "0" costs more than an admin re-tagging a greeting, so check 0
# must win by a margin: its log-odds are lowered by this much after training.
ZERO_SHIFT = 0.5
# Texts without any CJK character ("123", "test", emoji) are never a suggestion about a check.
NO_CJK_PROBS = (0.95, 0.01, 0.01, 0.01, 0.01, 0.01)
EVIDENCE_MIN_SHARE = 0.15  # ignore features weaker than this share of the strongest one
_NON_WORD = re.compile(r"[^\w]")
# A multi-concern letter is scored sentence by sentence too: a check is one of its concerns
# when sentences it leads with some confidence hold this share of the letter's weight.
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_CJK_CHARS = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
SENTENCE_MIN_CHARS = 6
SENTENCE_MIN_PROB = 0.4
CONCERN_MIN_SHARE = 0.2
EVIDENCE_SENTENCES = 3
_PUNCT = " \t\r\n,.;:!?，。；：！？、…·\"'“”‘’()（）[]【】《》<>-—~～"

# N-grams are numbers, not strings: a code point fits in 21 bits, so a 1-3 char n-gram is
# exactly its code points side by side in one uint64, and a whole batch is featurised with
# a few numpy operations instead of a Python loop over every n-gram. Lexicon terms longer
# than 3 chars are found by a 64-bit polynomial hash of the same-length windows.
_BITS = 21
_MASK = (1 << _BITS) - 1
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)
# A letter's title line says what it is about more plainly than its body: its n-grams are
# also features of their own, marked by the top bit (a 3-gram key uses only 63 bits).
TITLE_BIT = np.uint64(1 << 63)
TITLE_MAX_CHARS = 60
U64Array = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class NgramModel:
    version: str
    gram_keys: U64Array  # (G,) sorted; feature 1 + i is n-gram gram_keys[i]
    lexicon: dict[str, int]  # term -> check; feature 1 + G + j is the j-th term
    idf: FloatArray  # (F,) with F = 1 + G + T; feature 0 is a zero placeholder
    weights: FloatArray  # (F, 6), centred per feature: a feature's row sums to 0
    lex_weights: FloatArray  # (6, 6): lexicon-hit count of check i -> score of check j
    bias: FloatArray  # (6,)
    # Title n-grams are features of their own (see TITLE_BIT), their tf-idf scaled by this;
    # 0 leaves titles part of the body.
    title_weight: float = 0.0
    # Share of the probabilities taken from the text's sentences scored one by one (their
    # length-weighted mean), so the one sentence that states a concern is heard.
    sentence_weight: float = 0.0

    @property
    def file_name(self) -> str:
        return f"tagger-{self.version}.npz"


def new_version() -> str:
    return f"{NAME}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def _decode(key: int) -> str:
    key &= ~int(TITLE_BIT)
    chars = [key >> 2 * _BITS, (key >> _BITS) & _MASK, key & _MASK]
    return "".join(chr(c) for c in chars if c)


@dataclass
class _Codes:
    codes: U64Array  # code points of the texts joined by 0
    valid: BoolArray  # False at the separators
    row: IntArray  # text index of each position


def _codes(texts: Sequence[str]) -> _Codes:
    # normalize() maps NUL to a space, so 0 only ever marks a boundary between texts.
    joined = "\x00".join(texts).encode("utf-32-le", "surrogatepass")
    codes = np.frombuffer(joined, dtype=np.uint32).astype(np.uint64)
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    row = np.repeat(np.arange(len(texts)), lens + 1)[: len(codes)]
    # Digits are no feature: a phone number or a receipt code says nothing about a check, yet
    # in the corpus digit runs belong to tests and spam (check 0).
    digit = (codes >= ord("0")) & (codes <= ord("9"))
    return _Codes(codes, (codes != 0) & ~digit, row)


def _windows(c: _Codes, length: int) -> tuple[U64Array, IntArray]:
    """Keys of all windows of `length` chars that do not cross a text boundary, with rows."""
    n = len(c.codes) - length + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    ok = c.valid[:n].copy()
    key = c.codes[:n].copy()
    for i in range(1, length):
        ok &= c.valid[i : n + i]
        if length <= 3:
            key = (key << np.uint64(_BITS)) | c.codes[i : n + i]
        else:
            key = key * _HASH_MUL + c.codes[i : n + i]
    return key[ok], c.row[:n][ok]


Windows = dict[int, tuple[U64Array, IntArray]]


def _gram_windows(c: _Codes) -> Windows:
    """The n-gram windows, which are also the lexicon's windows for its 1-3 char terms."""
    return {n: _windows(c, n) for n in (1, 2, 3)}


def _all_grams(wins: Windows) -> tuple[U64Array, IntArray]:
    return np.concatenate([k for k, _ in wins.values()]), np.concatenate(
        [r for _, r in wins.values()]
    )


def split_title(text: str) -> tuple[str, str]:
    """(title, body): the first line when a body with CJK text follows it, else ("", text)."""
    head, sep, body = text.partition("\n")
    if sep and len(head.strip()) <= TITLE_MAX_CHARS and has_cjk(head) and has_cjk(body):
        return head, body
    return "", text


@dataclass
class _Grams:
    c: _Codes
    wins: Windows  # the plain windows, also used to find lexicon terms
    keys: U64Array  # every n-gram key, the title's ones again with TITLE_BIT
    rows: IntArray


def _grams(texts: Sequence[str], *, title: bool) -> _Grams:
    c = _codes(texts)
    wins = _gram_windows(c)
    keys, rows = _all_grams(wins)
    if title:
        h_keys, h_rows = _all_grams(_gram_windows(_codes([split_title(t)[0] for t in texts])))
        keys = np.concatenate([keys, h_keys | TITLE_BIT])
        rows = np.concatenate([rows, h_rows])
    return _Grams(c, wins, keys, rows)


def _unique(a: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    # Sort-based: numpy's hash-based np.unique is several times slower on these arrays.
    a = np.sort(a)
    keep = np.ones(len(a), dtype=bool)
    keep[1:] = a[1:] != a[:-1]
    return a[keep]


def _lookup(sorted_keys: U64Array, keys: U64Array) -> tuple[BoolArray, IntArray]:
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys, pos


class _Lexicon:
    """Finds lexicon terms in a batch: per term length, a sorted table of window keys."""

    def __init__(self, lexicon: dict[str, int]) -> None:
        self.terms = list(lexicon)
        self.checks = np.asarray(list(lexicon.values()), dtype=np.int64)
        self.tables: dict[int, tuple[U64Array, IntArray]] = {}
        by_len: dict[int, list[int]] = {}
        for j, term in enumerate(self.terms):
            by_len.setdefault(len(term), []).append(j)
        for length, idx in by_len.items():
            keys = np.concatenate([_windows(_codes([self.terms[j]]), length)[0] for j in idx])
            order = np.argsort(keys)
            self.tables[length] = (keys[order], np.asarray(idx, dtype=np.int64)[order])

    def hits(self, c: _Codes, wins: Windows) -> tuple[IntArray, IntArray]:
        """Unique (row, term index) pairs, sorted by row; wins holds windows already made."""
        rows, terms = [], []
        for length, (keys, idx) in self.tables.items():
            wkeys, wrows = wins[length] if length in wins else _windows(c, length)
            hit, pos = _lookup(keys, wkeys)
            rows.append(wrows[hit])
            terms.append(idx[pos[hit]])
        n_terms = len(self.terms)
        pairs = _unique(np.concatenate([r * n_terms + t for r, t in zip(rows, terms, strict=True)]))
        return pairs // n_terms, pairs % n_terms


@dataclass
class _Batch:
    ids: IntArray  # feature ids of all rows, row after row
    vals: FloatArray  # L2-normalised tf-idf values
    starts: IntArray  # row start offsets into ids
    lex: FloatArray  # (B, 6) log(1 + lexicon hits per check)
    terms: list[list[int]]  # lexicon term indices found in each row


def _batch(
    gram_keys: U64Array,
    lex: _Lexicon,
    idf: FloatArray,
    texts: Sequence[str],
    *,
    title_weight: float,
) -> _Batch:
    b = len(texts)
    g = _grams(texts, title=title_weight > 0)
    rows = g.rows
    hit, pos = _lookup(gram_keys, g.keys)
    t_rows, t_idx = lex.hits(g.c, g.wins)
    n_feat = len(idf)
    term_base = 1 + len(gram_keys)
    # Each row gets feature 0 so that no row is empty; _unique makes features binary
    # and sorts them by row.
    pairs = _unique(
        np.concatenate(
            [
                np.arange(b) * n_feat,
                rows[hit] * n_feat + pos[hit] + 1,
                t_rows * n_feat + t_idx + term_base,
            ]
        )
    )
    row_of, ids = pairs // n_feat, pairs % n_feat
    starts = np.searchsorted(row_of, np.arange(b))
    raw = idf[ids]
    if title_weight > 0:
        # Title keys carry the top bit, so they sort last among the n-gram features.
        first_title = 1 + int(np.searchsorted(gram_keys, TITLE_BIT))
        raw = np.where((ids >= first_title) & (ids < term_base), raw * title_weight, raw)
    norms = np.sqrt(np.add.reduceat(raw * raw, starts))
    vals: FloatArray = (raw / np.maximum(norms, 1e-9)[row_of]).astype(np.float32)
    counts = np.bincount(t_rows * N_CHECKS + lex.checks[t_idx], minlength=b * N_CHECKS)
    terms: list[list[int]] = [[] for _ in range(b)]
    for r, t in zip(t_rows.tolist(), t_idx.tolist(), strict=True):
        terms[r].append(t)
    # log1p: diminishing returns for many hits of one check's lexicon.
    lex_feats = np.log1p(counts.reshape(b, N_CHECKS)).astype(np.float32)
    return _Batch(ids, vals, starts, lex_feats, terms)


def _softmax(scores: FloatArray) -> FloatArray:
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


def train(
    examples: Iterable[tuple[str, int]],
    lexicon: dict[str, int],
    *,
    l2: float = 3e-5,
    lex_l2: float = 1e-2,
    epochs: int = 150,
    lr: float = 0.05,
    zero_shift: float = ZERO_SHIFT,
    title_weight: float = 0.0,
    sentence_weight: float = 0.0,
) -> NgramModel:
    """Fit the model with full-batch Adam; later duplicates of a text override earlier ones."""
    labelled: dict[str, int] = {}
    for text, check in examples:
        if check not in CHECKS:
            raise ValueError(f"check must be one of {CHECKS}, got {check!r}")
        labelled[normalize(text)] = check
    texts = list(labelled)
    if not texts:
        raise ValueError("no training examples")
    n = len(texts)
    y = np.asarray([labelled[t] for t in texts], dtype=np.int64)

    lex = _Lexicon(lexicon)
    g = _grams(texts, title=title_weight > 0)
    keys, rows = g.keys, g.rows
    # Document frequency: count each (text, n-gram) pair once.
    doc_keys = np.unique(np.stack([rows.astype(np.uint64), keys], axis=1), axis=0)[:, 1]
    uniq, df = np.unique(doc_keys, return_counts=True)
    gram_keys = uniq[df >= MIN_DF]
    gram_df = df[df >= MIN_DF]
    _, t_idx = lex.hits(g.c, g.wins)
    term_df = np.bincount(t_idx, minlength=len(lex.terms))
    all_df = np.concatenate([gram_df, term_df]).astype(np.float64)
    idf = np.concatenate([[0.0], np.log((1 + n) / (1 + all_df)) + 1.0]).astype(np.float32)
    batch = _batch(gram_keys, lex, idf, texts, title_weight=title_weight)
    rows = np.repeat(np.arange(n), np.diff(np.append(batch.starts, len(batch.ids))))

    f = len(idf)
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
    b[0] -= zero_shift
    return NgramModel(
        version=new_version(),
        gram_keys=gram_keys,
        lexicon=dict(lexicon),
        idf=idf,
        weights=(w - w.mean(axis=1, keepdims=True)).astype(np.float32),
        lex_weights=lw.astype(np.float32),
        bias=b.astype(np.float32),
        title_weight=title_weight,
        sentence_weight=sentence_weight,
    )


def _write(model: NgramModel, fh: BinaryIO) -> None:
    np.savez_compressed(
        fh,
        version=np.asarray(model.version),
        gram_keys=model.gram_keys,
        idf=model.idf,
        weights=model.weights,
        lex_weights=model.lex_weights,
        bias=model.bias,
        lex_terms=np.asarray(list(model.lexicon)),
        lex_checks=np.asarray(list(model.lexicon.values()), dtype=np.int64),
        title_weight=np.asarray(model.title_weight, dtype=np.float32),
        sentence_weight=np.asarray(model.sentence_weight, dtype=np.float32),
    )


def save(model: NgramModel, directory: Path) -> Path:
    """Write the model atomically (temp file + rename) so readers never see half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / model.file_name
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            _write(model, fh)
        # mkstemp creates the file private; a model is not secret and other users may read it.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def to_bytes(model: NgramModel) -> bytes:
    """The model as the bytes of its .npz file (for the database)."""
    buffer = io.BytesIO()
    _write(model, buffer)
    return buffer.getvalue()


def load(source: Path | bytes) -> NgramModel:
    """A model from its .npz file or that file's bytes."""
    with np.load(io.BytesIO(source) if isinstance(source, bytes) else source,
                 allow_pickle=False) as data:
        return NgramModel(
            version=str(data["version"]),
            gram_keys=data["gram_keys"].astype(np.uint64),
            idf=data["idf"].astype(np.float32),
            weights=data["weights"].astype(np.float32),
            lex_weights=data["lex_weights"].astype(np.float32),
            bias=data["bias"].astype(np.float32),
            lexicon=dict(zip(data["lex_terms"].tolist(), data["lex_checks"].tolist(), strict=True)),
            # Models from before titles and sentence scoring lack these fields.
            title_weight=float(data["title_weight"]) if "title_weight" in data else 0.0,
            sentence_weight=float(data["sentence_weight"]) if "sentence_weight" in data else 0.0,
        )


class NgramTagger:
    """Tagger backed by an NgramModel; immutable, so safe to share between threads."""

    name = NAME

    def __init__(self, model: NgramModel) -> None:
        self.model = model
        self.version = model.version
        self._lex = _Lexicon(model.lexicon)
        self._terms = list(model.lexicon)
        # Feature texts for evidence, decoded and checked once here rather than per text.
        self._names = ["", *map(_decode, model.gram_keys.tolist()), *model.lexicon]
        self._quotable = np.asarray([_quotable(n) for n in self._names], dtype=bool)
        self._term_quotable = [_quotable(t) for t in self._terms]
        # term_vote[j][c]: how much one hit of lexicon term j pushes towards check c.
        lw = model.lex_weights
        lex_vote = (lw - lw.mean(axis=1, keepdims=True)).tolist()
        self._term_vote = [lex_vote[check] for check in model.lexicon.values()]

    def suggest(self, text: str) -> Suggestion:
        return self.suggest_many([text])[0]

    def _probs(self, norm: Sequence[str]) -> tuple[_Batch, FloatArray]:
        m = self.model
        batch = _batch(m.gram_keys, self._lex, m.idf, norm, title_weight=m.title_weight)
        scores = (
            np.add.reduceat(m.weights[batch.ids] * batch.vals[:, None], batch.starts)
            + batch.lex @ m.lex_weights
            + m.bias
        )
        return batch, _softmax(scores)

    def _concerns(
        self, texts: Sequence[str], norm: Sequence[str], whole: FloatArray
    ) -> tuple[list[list[Concern]], FloatArray]:
        """Score each sentence of each text on its own: the concerns (checks that lead
        enough text) and the sentences' length-weighted mean probabilities (whole, the
        texts' own probabilities, for texts of one sentence)."""
        spans = [split_sentences(t) for t in norm]
        flat = [(i, s, e) for i, sp in enumerate(spans) if len(sp) > 1 for s, e in sp]
        out: list[list[Concern]] = [[] for _ in texts]
        if not flat:
            return out, whole
        _, probs = self._probs([norm[i][s:e] for i, s, e in flat])
        idx = np.asarray([i for i, _, _ in flat], dtype=np.int64)
        length = np.asarray([e - s for _, s, e in flat], dtype=np.float32)
        sums = np.zeros_like(whole)
        np.add.at(sums, idx, probs * length[:, None])
        mean = whole.copy()
        has = np.unique(idx)
        mean[has] = sums[has] / sums[has].sum(axis=1, keepdims=True)
        weight: list[dict[int, float]] = [{} for _ in texts]
        quotes: list[dict[int, list[tuple[float, str]]]] = [{} for _ in texts]
        for (i, s, e), p in zip(flat, probs.tolist(), strict=True):
            c = max(range(N_CHECKS), key=p.__getitem__)
            if c == 0 or p[c] < SENTENCE_MIN_PROB:
                continue
            weight[i][c] = weight[i].get(c, 0.0) + p[c] * (e - s)
            quotes[i].setdefault(c, []).append((p[c], texts[i][s:e].strip(_PUNCT)))
        for i, per_check in enumerate(weight):
            total = sum(per_check.values())
            for c, w in sorted(per_check.items(), key=lambda kv: -kv[1]):
                if w / total >= CONCERN_MIN_SHARE:
                    best = sorted(quotes[i][c], key=lambda q: -q[0])[:EVIDENCE_SENTENCES]
                    out[i].append(Concern(c, round(w / total, 4), [q for _, q in best]))
        return out, mean

    def suggest_many(self, texts: Sequence[str]) -> list[Suggestion]:
        if not texts:
            return []
        m = self.model
        norm = [normalize(t) for t in texts]
        batch, probs = self._probs(norm)
        concerns, by_sentence = self._concerns(texts, norm, probs)
        if m.sentence_weight:
            probs = (1 - m.sentence_weight) * probs + m.sentence_weight * by_sentence
        chosen = probs.argmax(axis=1)
        ends = np.append(batch.starts[1:], len(batch.ids))
        rows = np.repeat(np.arange(len(texts)), ends - batch.starts)
        contrib = m.weights[batch.ids, chosen[rows]] * batch.vals
        # Evidence candidates: each row's best positive contributions. One sort groups
        # them by row in decreasing order; only the first few per row go back to Python.
        pos = np.flatnonzero(contrib > 0)
        pos = pos[np.lexsort((-contrib[pos], rows[pos]))]
        pos_rows = rows[pos]
        first = np.searchsorted(pos_rows, np.arange(len(texts)))
        keep = np.flatnonzero(np.arange(len(pos)) - first[pos_rows] < EVIDENCE_FEATURES)
        # The strongest feature sets a row's evidence floor, quotable or not; only quotable
        # ones go on to Python.
        strongest = np.zeros(len(texts), dtype=np.float32)
        np.maximum.at(strongest, pos_rows, contrib[pos])
        keep = keep[self._quotable[batch.ids[pos[keep]]]]
        tops: list[list[tuple[str, float]]] = [[] for _ in texts]
        for r, fid, w in zip(
            pos_rows[keep].tolist(),
            batch.ids[pos[keep]].tolist(),
            contrib[pos[keep]].tolist(),
            strict=True,
        ):
            tops[r].append((self._names[fid], w))
        probs_l = probs.tolist()
        chosen_l = chosen.tolist()
        strongest_l = strongest.tolist()
        out = []
        for i, (orig, text) in enumerate(zip(texts, norm, strict=True)):
            if not has_cjk(text):
                out.append(make_suggestion(NO_CJK_PROBS, []))
                continue
            c = chosen_l[i]
            top = tops[i]
            best = strongest_l[i]
            for t in batch.terms[i]:
                w = self._term_vote[t][c]
                best = max(best, w)
                if self._term_quotable[t]:
                    top.append((self._terms[t], w))
            out.append(
                make_suggestion(probs_l[i], _evidence(orig, text, top, best), concerns[i])
            )
        return out


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of text long enough to be about something on their own."""
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if len(_CJK_CHARS.findall(text, start, m.end())) >= SENTENCE_MIN_CHARS:
            spans.append((start, m.end()))
        start = m.end()
    if len(_CJK_CHARS.findall(text, start)) >= SENTENCE_MIN_CHARS:
        spans.append((start, len(text)))
    return spans


def _quotable(feature: str) -> bool:
    # Features with punctuation or symbols would glue phrases across clause breaks.
    return _NON_WORD.search(feature) is None


def _evidence(orig: str, text: str, top: list[tuple[str, float]], best: float) -> list[str]:
    """Turn the top quotable features into readable phrases of the original text.

    Features weaker than a share of the strongest one (best) are left out. Overlapping or
    touching n-grams are merged into one span ("有偿"+"补课" -> "有偿补课"), and spans are
    quoted from the original text (normalisation keeps positions), so a
    traditional-character message gets traditional evidence.
    """
    spans: list[tuple[int, int, float]] = []
    floor = EVIDENCE_MIN_SHARE * best
    for feature, weight in top:
        if weight <= 0 or weight < floor:
            continue
        pos = text.find(feature)
        if pos >= 0:
            spans.append((pos, pos + len(feature), weight))
    spans.sort()
    merged: list[tuple[int, int, float]] = []
    for s, e, w in spans:
        if merged and s <= merged[-1][1]:
            ms, me, mw = merged[-1]
            merged[-1] = (ms, max(me, e), mw + w)
        else:
            merged.append((s, e, w))
    merged.sort(key=lambda m: -m[2])
    phrases: list[str] = []
    for s, e, _ in merged:
        phrase = orig[s:e].strip(_PUNCT)
        if len(phrase) >= 2 and phrase not in phrases:
            phrases.append(phrase)
        if len(phrases) == EVIDENCE_MAX:
            break
    return phrases
