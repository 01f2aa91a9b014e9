"""Answer, ask back, or decline: a wrong answer about a procedure harms people, so weak matches are not answered.

Confidence is the probability that the top entry is the right one, from a logistic model over the
search's signals (how close e5 finds the question, whether BM25 and e5 agree, how far ahead the top
entry is, whether the runners-up share its topic, how much of the question the base has words for).
The weights and the two bars are fitted by `make calibrate` on our own question sets and the tuning
half of the real-question corpus, and kept in `calibration.json`, so retuning is a measured step,
not an edit in code:

- confidence >= answer_at: answer with the top entry;
- clarify_at <= confidence < answer_at: ask back with the closest entries as buttons;
- below: decline honestly (and offer a person).

Without fitted weights (tests with a fake embedder) confidence is the older formula: top cosine +
coverage_weight x lexical coverage.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bot.knowledge.model import topic_of
from bot.search.hybrid import SearchResult

# Longer than this, a message is searched by its asking clause too (bot/core/asking.py SHORT_WORDS) and gets the long
# regime's model and bars. Measured on real_dev: residents' 15-25-word questions behave like their stories, not
# like our own short questions, and with the bar at 25 words the short model (fitted mostly on our own questions)
# answered them too readily.
STORY_WORDS = 14


def is_story(result: SearchResult) -> bool:
    """Whether the long regime's model and bars apply to this message."""
    return len(result.query.split()) > STORY_WORDS


FEATURES = (
    "cosine",  # best cosine of the top entry
    "cosine_gap",  # its lead over the runner-up's cosine
    "bm25_lead",  # the top entry's share of the best BM25 score (1 when it is BM25's first)
    "coverage",  # share of the question's rare word pairs the base knows
    "agree_e5",  # e5 alone ranks the top entry first
    "agree_bm25",  # BM25 alone ranks the top entry first
    "fused_gap",  # lead of the fused score over the runner-up, relative
    "same_topic",  # the runner-up is on the same topic (a near miss costs less)
    "long",  # the message was long enough to be searched by its asking clause
    "overlap",  # share of the ask's rare words found in the top entry
    "overlap_gap",  # its lead over the runner-up's
    "length",  # log of the message's word count: a long story is matched by chance more often
)


def features(result: SearchResult) -> np.ndarray:
    """The signals the confidence model reads, in FEATURES order."""
    hits = result.hits
    top = hits[0]
    second = hits[1] if len(hits) > 1 else None
    best_bm25 = max((h.bm25 for h in hits), default=0.0)
    return np.array([
        top.cosine,
        top.cosine - (second.cosine if second else 0.0),
        top.bm25 / best_bm25 if best_bm25 > 0 else 0.0,
        result.coverage,
        float(result.top_by_cosine == top.entry.id),
        float(result.top_by_bm25 == top.entry.id),
        (top.score - (second.score if second else 0.0)) / top.score if top.score > 0 else 0.0,
        float(second is not None and topic_of(second.entry.id) == topic_of(top.entry.id)),
        float(bool(result.ask)),
        top.overlap,
        top.overlap - (second.overlap if second else 0.0),
        math.log1p(len(result.query.split())),
    ], dtype=np.float64)


@dataclass(frozen=True)
class Thresholds:
    """How confidence is computed and how much of it an answer (or a question back) needs."""

    coverage_weight: float = 0.04
    min_confidence: float = 0.90  # answer_at
    min_confidence_out_of_scope: float = 0.95  # NLU judged the message off-topic: answer only when sure
    clarify_at: float | None = None  # ask back from here; None: the older coverage/cosine rule (bot/replies/answers.py)
    weights: tuple[float, ...] = field(default=())  # logistic model over FEATURES; () means the older formula
    bias: float = 0.0
    # Longer messages (over STORY_WORDS words) are another regime (mushier cosines, more words by chance): their own
    # model and bars, fitted on long messages only. Empty: the short model serves every message.
    long_weights: tuple[float, ...] = field(default=())
    long_bias: float = 0.0
    long_answer_at: float = 0.9
    long_clarify_at: float | None = None

    @classmethod
    def load(cls, path: Path) -> Thresholds:
        """Read calibrated thresholds; defaults when the file is missing."""
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8")).get("thresholds", {})
        values: dict = {}
        for key, value in data.items():
            if key in ("weights", "long_weights"):
                values[key] = tuple(float(w) for w in value)
            elif key in cls.__dataclass_fields__:
                values[key] = None if value is None else float(value)
        return cls(**values)

    def to_dict(self) -> dict:
        """Plain values, for the calibration file."""
        data = asdict(self)
        data["weights"] = list(self.weights)
        data["long_weights"] = list(self.long_weights)
        return data


@dataclass(frozen=True)
class Decision:
    """Whether to answer or ask back, the confidence, and why (for logs and tests)."""

    answer: bool
    confidence: float
    reason: str
    clarify: bool = False  # not sure enough to answer, sure enough that the question is ours: ask back


def confidence(result: SearchResult, thresholds: Thresholds) -> float:
    """One number for how sure the top hit is."""
    top = result.top
    if top is None:
        return 0.0
    if not thresholds.weights:
        return top.cosine + thresholds.coverage_weight * result.coverage
    weights, bias = thresholds.weights, thresholds.bias
    if is_story(result) and thresholds.long_weights:
        weights, bias = thresholds.long_weights, thresholds.long_bias
    z = float(np.dot(weights, features(result))) + bias
    return 1.0 / (1.0 + math.exp(-z))


def decide(result: SearchResult, thresholds: Thresholds, out_of_scope: bool = False) -> Decision:
    """Decide from the search signals (and whether NLU judged the message off-topic)."""
    if result.top is None:
        return Decision(False, 0.0, "no match")
    conf = confidence(result, thresholds)
    long = bool(is_story(result) and thresholds.long_weights)
    answer_at = thresholds.long_answer_at if long else thresholds.min_confidence
    clarify_at = thresholds.long_clarify_at if long else thresholds.clarify_at
    bar = answer_at
    if out_of_scope:  # the short regime's own bar; a long message needs at least its regime's answer bar too
        bar = max(answer_at, thresholds.min_confidence_out_of_scope) if long else thresholds.min_confidence_out_of_scope
    if conf >= bar:
        return Decision(True, conf, "confident match")
    if not out_of_scope and clarify_at is not None and conf >= clarify_at:
        return Decision(False, conf, "close match", clarify=True)
    return Decision(False, conf, "off-topic" if out_of_scope else "weak match")
