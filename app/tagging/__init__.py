"""Five-checks (五查五看) tagger: suggests which check a piece of feedback is about.

Typical use in the app::

    tagger = ReloadingTagger("ngram", engine=engine)  # follows models retrained into the db
    for s in tagger.suggest_many(texts): ...   # s.check, s.ranked, s.evidence, s.to_json(id)
"""

from app.tagging.base import CHECKS, Suggestion, Tagger
from app.tagging.evaluate import CheckStats, EvalReport, evaluate, format_report
from app.tagging.ngram import NgramModel
from app.tagging.ngram import load as load_model
from app.tagging.ngram import save as save_model
from app.tagging.registry import (
    ReloadingTagger,
    load_tagger,
    read_examples,
    retrain,
    start_tagger,
    train,
)
from app.tagging.text import MAX_TEXT_CHARS, normalize, validate_text

__all__ = [
    "CHECKS",
    "MAX_TEXT_CHARS",
    "CheckStats",
    "EvalReport",
    "NgramModel",
    "ReloadingTagger",
    "Suggestion",
    "Tagger",
    "evaluate",
    "format_report",
    "load_model",
    "load_tagger",
    "normalize",
    "read_examples",
    "retrain",
    "save_model",
    "start_tagger",
    "train",
    "validate_text",
]
