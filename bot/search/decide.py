"""Answer or decline: a wrong answer about a procedure harms people, so weak matches are declined.

Confidence = best cosine of the top entry + weight x lexical coverage of the query. The weight and
the thresholds are calibrated on the project's own question set (`make calibrate`) and kept in
`calibration.json`, so retuning is a measured step, not an edit in code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.search.hybrid import SearchResult


@dataclass(frozen=True)
class Thresholds:
    """How confidence is computed and how much of it an answer needs."""

    coverage_weight: float = 0.04
    min_confidence: float = 0.90
    min_confidence_out_of_scope: float = 0.95  # NLU judged the message off-topic: answer only when sure

    @classmethod
    def load(cls, path: Path) -> Thresholds:
        """Read calibrated thresholds; defaults when the file is missing."""
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: float(v) for k, v in data.get("thresholds", {}).items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, float]:
        """Plain values, for the calibration file."""
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """Whether to answer, the confidence, and why (for logs and tests)."""

    answer: bool
    confidence: float
    reason: str


def confidence(result: SearchResult, thresholds: Thresholds) -> float:
    """One number for how sure the top hit is."""
    top = result.top
    return 0.0 if top is None else top.cosine + thresholds.coverage_weight * result.coverage


def decide(result: SearchResult, thresholds: Thresholds, out_of_scope: bool = False) -> Decision:
    """Decide from the search signals (and whether NLU judged the message off-topic)."""
    if result.top is None:
        return Decision(False, 0.0, "no match")
    conf = confidence(result, thresholds)
    bar = thresholds.min_confidence_out_of_scope if out_of_scope else thresholds.min_confidence
    if conf >= bar:
        return Decision(True, conf, "confident match")
    return Decision(False, conf, "off-topic" if out_of_scope else "weak match")
