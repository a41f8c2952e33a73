"""Shared types: the suggestion a tagger returns and the interface every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

CHECKS: tuple[int, ...] = (0, 1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Suggestion:
    """A ranked tag suggestion for one text; an admin confirms or corrects it."""

    check: int
    scores: dict[int, float]
    ranked: list[tuple[int, float]]
    evidence: list[str]

    def to_json(self, id: Any = None) -> dict[str, Any]:
        return {
            "id": id,
            "check": self.check,
            "scores": {str(c): round(self.scores.get(c, 0.0), 4) for c in CHECKS},
            "evidence": list(self.evidence),
        }


class Tagger(Protocol):
    """What the app calls; "name" picks the backend, "version" names the model file."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def suggest(self, text: str) -> Suggestion: ...

    def suggest_many(self, texts: Sequence[str]) -> list[Suggestion]: ...


def make_suggestion(probs: Sequence[float], evidence: list[str]) -> Suggestion:
    """Build a Suggestion from per-check probabilities indexed like CHECKS."""
    scores = {c: float(p) for c, p in zip(CHECKS, probs, strict=True)}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    return Suggestion(check=ranked[0][0], scores=scores, ranked=ranked, evidence=evidence)
