"""Shared types: the suggestion a tagger returns and the interface every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

CHECKS: tuple[int, ...] = (0, 1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Concern:
    """One check a letter speaks to: its share of the letter and the sentences that show it."""

    check: int
    share: float
    sentences: list[str]


@dataclass(frozen=True)
class Suggestion:
    """A ranked tag suggestion for one text; an admin confirms or corrects it.

    concerns lists every check the text speaks to, the suggested check first, so a letter
    about fees and about teaching is found under both.
    """

    check: int
    scores: dict[int, float]
    ranked: list[tuple[int, float]]
    evidence: list[str]
    concerns: list[Concern] = field(default_factory=list)

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


def make_suggestion(
    probs: Sequence[float], evidence: list[str], concerns: Sequence[Concern] = ()
) -> Suggestion:
    """Build a Suggestion from per-check probabilities indexed like CHECKS."""
    scores = {c: float(p) for c, p in zip(CHECKS, probs, strict=True)}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    check = ranked[0][0]
    # The suggested check always leads, even where its sentences are spread thin.
    lead = next((c for c in concerns if c.check == check), Concern(check, 1.0, []))
    rest = [c for c in concerns if c.check != check]
    return Suggestion(
        check=check, scores=scores, ranked=ranked, evidence=evidence, concerns=[lead, *rest]
    )
