"""Answer or decline: a wrong answer about a procedure harms people, so weak matches are declined.

The thresholds are calibrated on the project's own question set (`make calibrate`) and kept in
`calibration.json`, so retuning is a measured step, not an edit in code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.search.hybrid import SearchResult


@dataclass(frozen=True)
class Thresholds:
    """Minimum signals for answering."""

    min_cosine: float = 0.86  # embeddings alone are sure
    min_cosine_lexical: float = 0.80  # enough when BM25 ranks the same entry first
    min_coverage: float = 0.5  # share of the query's words the knowledge base knows
    min_cosine_out_of_scope: float = 0.90  # NLU thinks it is off-topic: answer only when sure

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
    """Whether to answer, and why (for logs and tests)."""

    answer: bool
    reason: str


def lexical_agrees(result: SearchResult) -> bool:
    """BM25 ranks the fused top entry first too."""
    top = result.top
    return top is not None and top.bm25 > 0 and top.bm25 >= max(h.bm25 for h in result.hits)


def decide(result: SearchResult, thresholds: Thresholds, out_of_scope: bool = False) -> Decision:
    """Decide from the search signals (and whether NLU judged the message off-topic)."""
    top = result.top
    if top is None:
        return Decision(False, "no match")
    if out_of_scope:
        ok = top.cosine >= thresholds.min_cosine_out_of_scope and lexical_agrees(result)
        return Decision(ok, "sure despite off-topic intent" if ok else "off-topic")
    if top.cosine >= thresholds.min_cosine:
        return Decision(True, "embedding match")
    if (
        top.cosine >= thresholds.min_cosine_lexical
        and result.coverage >= thresholds.min_coverage
        and lexical_agrees(result)
    ):
        return Decision(True, "embedding and keywords agree")
    return Decision(False, "weak match")
