"""Choosing, loading, retraining and hot-reloading tagger models."""

from __future__ import annotations

import json
import logging
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from functools import cache, partial
from itertools import chain
from pathlib import Path

from sqlalchemy import Engine, delete
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from app.models import TaggerModel
from app.tagging import ngram
from app.tagging.base import CHECKS, Suggestion, Tagger

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
CORPUS_PATH = DATA_DIR / "corpus.jsonl"
# Long letters in the register citizens write in (title line, body), beside the short corpus.
LETTERS_GLOB = "letters-*.jsonl"
LEXICON_PATH = DATA_DIR / "lexicon.json"
TAGGERS = (ngram.NAME,)
KEEP_MODELS = 5
# Title n-grams count double, and half of a letter's score comes from its sentences scored
# one by one: both measured on the letters (bench/tagging.py --levers).
TITLE_WEIGHT = 2.0
SENTENCE_WEIGHT = 0.5


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


def read_also(path: Path) -> list[tuple[int, ...]]:
    """The acceptable second readings ("also", may be absent) of each example in path."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            also = json.loads(line).get("also", [])
            if not isinstance(also, list) or any(c not in CHECKS for c in also):
                raise ValueError(f"{path}:{no}: 'also' must be a list of checks 0-5")
            out.append(tuple(int(c) for c in also))
    return out


def corpus_paths() -> list[Path]:
    """The shipped training files: the short corpus and the letters."""
    return [CORPUS_PATH, *sorted(DATA_DIR.glob(LETTERS_GLOB))]


def corpus_examples() -> list[tuple[str, int]]:
    return [e for path in corpus_paths() for e in read_examples(path)]


def _model_files(directory: Path, name: str) -> list[Path]:
    # File names embed a fixed-width UTC timestamp, so name order is age order.
    return sorted(directory.glob(f"tagger-{name}-*.npz"), key=lambda p: p.name)


def _stored_names(engine: Engine, name: str) -> list[str]:
    """File names of the retrained models in the database, newest first."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(TaggerModel.file_name)
                .where(TaggerModel.name == name)
                .order_by(col(TaggerModel.file_name).desc())
                .limit(KEEP_MODELS)
            ).all()
        )


def _stored_model(engine: Engine, file_name: str) -> ngram.NgramModel:
    with Session(engine) as session:
        data = session.exec(
            select(TaggerModel.data).where(TaggerModel.file_name == file_name)
        ).first()
    if data is None:
        raise ValueError(f"model {file_name} was removed from the database")
    return ngram.load(data)


Loader = Callable[[], ngram.NgramModel]


def _candidates(name: str, engine: Engine | None) -> list[tuple[str, Loader]]:
    """(file name, loader) of every model, newest first: the shipped files and the models
    retrained into the database; a retrained one wins only if newer than the shipped one."""
    if name not in TAGGERS:
        raise ValueError(f"unknown tagger {name!r}; available: {', '.join(TAGGERS)}")
    found = [(path.name, partial(ngram.load, path)) for path in _model_files(DATA_DIR, name)]
    if engine is not None:
        found += [(n, partial(_stored_model, engine, n)) for n in _stored_names(engine, name)]
    return sorted(found, key=lambda candidate: candidate[0], reverse=True)


def _load_newest(name: str, engine: Engine | None) -> tuple[str, Tagger]:
    # A broken model must not take tagging down: fall back to an older one.
    for file_name, loader in _candidates(name, engine):
        try:
            return file_name, ngram.NgramTagger(loader())
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            log.exception("tagger: cannot load %s, trying an older model", file_name)
    raise FileNotFoundError(f"no loadable tagger-{name}-*.npz in {DATA_DIR} or the database")


def load_tagger(name: str = ngram.NAME, engine: Engine | None = None) -> Tagger:
    """The newest model: shipped, or retrained into the database behind `engine`."""
    return _load_newest(name, engine)[1]


def train(examples: Iterable[tuple[str, int]]) -> ngram.NgramModel:
    """Train on examples with the shipped lexicon; later labels of a text override earlier."""
    return ngram.train(
        examples, load_lexicon(), title_weight=TITLE_WEIGHT, sentence_weight=SENTENCE_WEIGHT
    )


def retrain(session: Session, *, extra: Iterable[tuple[str, int]] = ()) -> str:
    """Train on the shipped corpus plus extra (admin corrections) and store the model in
    the database, where every process finds it; returns its file name.

    extra comes after the corpus, so a correction of a corpus text replaces its label.
    Older retrained models beyond the last few are removed.
    """
    model = train(chain(corpus_examples(), extra))
    session.add(
        TaggerModel(name=ngram.NAME, file_name=model.file_name, data=ngram.to_bytes(model))
    )
    session.flush()
    kept = (
        select(TaggerModel.id)
        .where(TaggerModel.name == ngram.NAME)
        .order_by(col(TaggerModel.file_name).desc())
        .limit(KEEP_MODELS)
        .subquery()
    )
    session.execute(
        delete(TaggerModel).where(
            col(TaggerModel.name) == ngram.NAME, col(TaggerModel.id).not_in(select(kept.c.id))
        )
    )
    return model.file_name


class ReloadingTagger:
    """A Tagger that switches to a newer retrained model while the process runs.

    At most every `interval` seconds one caller asks the database for the newest model's
    name (one indexed row); only if it changed does it load that model, then it swaps a
    single reference, so concurrent callers keep using the old model until the new one is
    ready and no request is lost. Every replica and worker does the same, so a model
    retrained anywhere is in use everywhere within seconds.
    """

    def __init__(
        self,
        name: str = ngram.NAME,
        engine: Engine | None = None,
        *,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._engine = engine
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._file_name, self._tagger = _load_newest(name, engine)
        # The newest model already tried, loadable or not: a broken one is tried only once.
        self._seen = _candidates(name, engine)[0][0]
        self._next_check = clock() + interval

    @property
    def name(self) -> str:
        return self._tagger.name

    @property
    def version(self) -> str:
        return self._tagger.version

    def current(self) -> Tagger:
        """The tagger to use now, after a cheap check for a newer model."""
        if self._engine is not None and self._clock() >= self._next_check:
            self._maybe_reload()
        return self._tagger

    def _maybe_reload(self) -> None:
        # Non-blocking: if another thread is already checking, use the current model.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._next_check = self._clock() + self._interval
            newest = _candidates(self._name, self._engine)[0][0]
            if newest != self._seen:
                self._seen = newest
                file_name, tagger = _load_newest(self._name, self._engine)
                if file_name != self._file_name:
                    self._tagger, self._file_name = tagger, file_name
                    log.info("tagger: now using %s", file_name)
        except (SQLAlchemyError, OSError, ValueError):
            # The database away for a moment: keep tagging with the model we have.
            log.exception("tagger: could not look for a newer model")
        finally:
            self._lock.release()

    def suggest(self, text: str) -> Suggestion:
        return self.current().suggest(text)

    def suggest_many(self, texts: Sequence[str]) -> list[Suggestion]:
        return self.current().suggest_many(texts)


def start_tagger(name: str, *, engine: Engine) -> ReloadingTagger:
    """The named tagger following models retrained into the database, warmed up."""
    tagger = ReloadingTagger(name, engine=engine)
    # The first suggestion loads the traditional-to-simplified table (about a second):
    # pay it at start-up, not in the first parent's request.
    tagger.suggest("學校")
    return tagger
