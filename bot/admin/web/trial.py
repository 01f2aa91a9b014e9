"""“Which entry would answer this?” for a draft: the bot's own search and answer rules over the active
entries with the draft added (or in place of its saved version), before anything is saved or published.

Vectors come from the same embedding cache the publisher fills, so only the draft's new texts are
embedded; the searcher is built in memory and thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from bot.knowledge.model import Entry
from bot.replies.answers import Reply, answer_question
from bot.search.decide import Thresholds, confidence
from bot.search.embcache import EmbeddingCache
from bot.search.hybrid import HybridSearcher
from bot.search.index import BuiltIndex, documents


def model_fingerprint(embedder) -> str:
    """The cache key of the model, computed as the publisher computes it (so the caches are shared)."""
    return getattr(embedder, "fingerprint", lambda: embedder.name)()


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str
    cosine: float
    is_draft: bool


@dataclass(frozen=True)
class TrialResult:
    """What the bot would do with a question if the draft were published."""

    question: str
    outcome: str  # answer | clarify | decline
    reply: Reply
    entry_id: str | None  # the entry that would answer (None unless outcome is answer)
    entry_title: str
    confidence: float
    threshold: float
    candidates: list[Candidate]
    draft_id: str

    @property
    def draft_answers(self) -> bool:
        return self.outcome == "answer" and self.entry_id == self.draft_id


class DraftTrial:
    """Builds a throw-away searcher with a draft and asks it a question."""

    def __init__(self, embedder, cache_path: Path, thresholds: Thresholds) -> None:
        self.embedder = embedder
        self.cache_path = cache_path
        self.thresholds = thresholds
        self._cache: EmbeddingCache | None = None

    def _vectors(self, entries: list[Entry]) -> tuple[list, faiss.Index]:
        if self._cache is None:
            self._cache = EmbeddingCache(self.cache_path, model_fingerprint(self.embedder))
        docs = documents(entries)
        # the same kinds as the index build: ways of asking are queries, the answer text a passage
        asked = [i for i, d in enumerate(docs) if d.kind != "answer"]
        passages = [i for i, d in enumerate(docs) if d.kind == "answer"]
        parts = {}
        for kind, idx, encode in (("query", asked, self.embedder.encode_queries),
                                  ("passage", passages, self.embedder.encode_passages)):
            if idx:
                parts[kind] = (idx, self._cache.encode(kind, [docs[i].text for i in idx], encode))
        dim = next(iter(parts.values()))[1].shape[1]
        vectors = np.zeros((len(docs), dim), dtype=np.float32)
        for idx, vecs in parts.values():
            vectors[idx] = vecs
        flat = faiss.IndexIDMap(faiss.IndexFlatIP(dim))
        flat.add_with_ids(vectors, np.arange(len(docs), dtype=np.int64))
        return docs, flat

    def searcher(self, active: list[Entry], draft: Entry) -> HybridSearcher:
        entries = [e for e in active if e.id != draft.id] + [draft]
        docs, vectors = self._vectors(entries)
        return HybridSearcher(BuiltIndex(Path("(bản nháp)"), entries, docs, vectors, {}), self.embedder)

    def ask(self, question: str, active: list[Entry], draft: Entry) -> TrialResult:
        searcher = self.searcher(active, draft)
        reply = answer_question(question, searcher, self.thresholds)
        result = searcher.search(question, k=3)
        outcome = "answer" if reply.reason == "answer" else "clarify" if reply.reason == "clarify" else "decline"
        candidates = [Candidate(h.entry.id, h.entry.title, h.cosine, h.entry.id == draft.id) for h in result.hits]
        answering = searcher.by_id.get(reply.entry_id or "") if outcome == "answer" else None
        return TrialResult(question, outcome, reply, answering.id if answering else None,
                           answering.title if answering else "", confidence(result, self.thresholds),
                           self.thresholds.min_confidence, candidates, draft.id)
