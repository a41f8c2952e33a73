"""Choosing, loading, retraining and hot-reloading tagger models."""

from __future__ import annotations

import json
import logging
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from itertools import chain
from pathlib import Path

from app.tagging import ngram
from app.tagging.base import CHECKS, Suggestion, Tagger

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
CORPUS_PATH = DATA_DIR / "corpus.jsonl"
LEXICON_PATH = DATA_DIR / "lexicon.json"
TAGGERS = (ngram.NAME,)
KEEP_MODELS = 5


@cache
def load_lexicon(path: Path = LEXICON_PATH) -> dict[str, int]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {term: int(check) for check, terms in raw.items() if check.isdigit() for term in terms}


def read_examples(path: Path) -> list[tuple[str, int]]:
    """Read {"text", "check"} JSON lines; a bad line is an error naming its line number."""
    examples = []
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                text, check = obj["text"], obj["check"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{no}: expected {{'text', 'check'}} JSON: {exc}") from exc
            if not isinstance(text, str) or check not in CHECKS or isinstance(check, bool):
                raise ValueError(f"{path}:{no}: 'text' must be a string and 'check' 0-5")
            examples.append((text, int(check)))
    return examples


def _model_files(directory: Path, name: str) -> list[Path]:
    # File names embed a fixed-width UTC timestamp, so name order is age order.
    return sorted(directory.glob(f"tagger-{name}-*.npz"), key=lambda p: p.name)


def _candidates(name: str, model_dir: Path | None) -> list[Path]:
    """Model files, newest first: retrained ones in model_dir win only if newer than shipped."""
    if name not in TAGGERS:
        raise ValueError(f"unknown tagger {name!r}; available: {', '.join(TAGGERS)}")
    found = _model_files(DATA_DIR, name)
    if model_dir is not None and model_dir.is_dir():
        found += _model_files(model_dir, name)
    return sorted(found, key=lambda p: p.name, reverse=True)


def _load_newest(name: str, model_dir: Path | None) -> tuple[Path, Tagger]:
    # A broken or half-copied file must not take tagging down: fall back to an older one.
    for path in _candidates(name, model_dir):
        try:
            return path, ngram.NgramTagger(ngram.load(path))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            log.exception("tagger: cannot load %s, trying an older model", path)
    raise FileNotFoundError(f"no loadable tagger-{name}-*.npz in {DATA_DIR} or {model_dir}")


def latest_model_file(name: str = ngram.NAME, model_dir: Path | None = None) -> Path:
    """The model file load_tagger(name, model_dir) uses."""
    return _load_newest(name, model_dir)[0]


def load_tagger(name: str = ngram.NAME, model_dir: Path | None = None) -> Tagger:
    return _load_newest(name, model_dir)[1]


def train(examples: Iterable[tuple[str, int]]) -> ngram.NgramModel:
    """Train on examples with the shipped lexicon; later labels of a text override earlier."""
    return ngram.train(examples, load_lexicon())


def retrain(*, model_dir: Path, extra: Iterable[tuple[str, int]] = ()) -> Path:
    """Train on the shipped corpus plus extra (admin corrections) and save into model_dir.

    extra comes after the corpus, so a correction of a corpus text replaces its label.
    Older retrained models beyond the last few are removed.
    """
    model = train(chain(read_examples(CORPUS_PATH), extra))
    path = ngram.save(model, model_dir)
    for old in _model_files(model_dir, ngram.NAME)[:-KEEP_MODELS]:
        old.unlink(missing_ok=True)
    return path


class ReloadingTagger:
    """A Tagger that switches to a newer model file in model_dir while the server runs.

    At most every `interval` seconds one caller lists the model folders (a few entries);
    only if a new newest file appeared does it load it, then it swaps a single reference,
    so concurrent callers keep using the old model until the new one is ready and no
    request is lost. A listing rather than the folder's mtime: a file written and renamed
    within one mtime tick would otherwise go unnoticed.
    """

    def __init__(
        self,
        name: str = ngram.NAME,
        model_dir: Path | None = None,
        *,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._model_dir = model_dir
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._path, self._tagger = _load_newest(name, model_dir)
        # The newest file already tried, loadable or not: a broken file is tried only once.
        self._seen = _candidates(name, model_dir)[0]
        self._next_check = clock() + interval

    @property
    def name(self) -> str:
        return self._tagger.name

    @property
    def version(self) -> str:
        return self._tagger.version

    def current(self) -> Tagger:
        """The tagger to use now, after a cheap check for a newer model."""
        if self._model_dir is not None and self._clock() >= self._next_check:
            self._maybe_reload()
        return self._tagger

    def _maybe_reload(self) -> None:
        # Non-blocking: if another thread is already checking, use the current model.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._next_check = self._clock() + self._interval
            newest = _candidates(self._name, self._model_dir)[0]
            if newest != self._seen:
                self._seen = newest
                path, tagger = _load_newest(self._name, self._model_dir)
                if path != self._path:
                    self._tagger, self._path = tagger, path
                    log.info("tagger: now using %s", path)
        except (OSError, ValueError):
            log.exception("tagger: could not look for a newer model in %s", self._model_dir)
        finally:
            self._lock.release()

    def suggest(self, text: str) -> Suggestion:
        return self.current().suggest(text)

    def suggest_many(self, texts: Sequence[str]) -> list[Suggestion]:
        return self.current().suggest_many(texts)


def start_tagger(name: str, *, model_dir: Path) -> ReloadingTagger:
    """The named tagger following retrained models in model_dir, warmed up (about a second)."""
    tagger = ReloadingTagger(name, model_dir=model_dir)
    # The first suggestion loads the traditional-to-simplified table (about a second):
    # pay it at start-up, not in the first parent's request.
    tagger.suggest("學校")
    return tagger
