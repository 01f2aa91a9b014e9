"""Hybrid retrieval: BM25 over de-accented syllables fused by rank with e5 embeddings.

Embeddings alone miss most unaccented questions; BM25 alone misses paraphrases. Reciprocal rank
fusion needs no score calibration between the two, and the raw signals are kept for the
answer-or-decline decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.core.asking import find_ask
from bot.core.text import AccentRestorer
from bot.knowledge.model import Entry
from bot.search.embedder import Embedder
from bot.search.index import BuiltIndex
from bot.search.lexical import LexicalIndex
from bot.search.vector_index import search_depth

# Measured on tests/data/questions.jsonl (as typed and de-accented): BM25 alone finds the right
# entry first more often than e5 alone (85% vs 65%), so its ranks weigh double; a small k lets
# the first ranks dominate on a corpus of a few hundred entries.
RRF_K = 2
LEXICAL_WEIGHT = 2.0
# A long message is searched twice, whole and by its asking clause (bot/core/asking.py); the ask's
# share of the cosine and its extra BM25 weight were chosen on tests/data/real_dev.jsonl.
ASK_COSINE_SHARE = 0.5
ASK_LEXICAL_BOOST = 0.0  # measured: the ask helps the cosine; BM25 does best on the whole (cleaned) message


@dataclass(frozen=True)
class Hit:
    """One candidate entry with the signals behind its rank."""

    entry: Entry
    score: float  # fused reciprocal-rank score
    cosine: float  # best cosine between the query and any of the entry's texts
    bm25: float  # BM25 score of the entry for the query
    overlap: float = 0.0  # share of the ask's rare words found in the entry (LexicalIndex.overlap)


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits plus query-level signals."""

    query: str
    restored: str
    hits: list[Hit]
    coverage: float  # share of query syllables known to the knowledge base
    ask: str = ""  # the asking clause searched besides the whole message ("" when the message was short)
    top_by_cosine: str = ""  # the entry e5 alone ranks first
    top_by_bm25: str = ""  # the entry BM25 alone ranks first ("" when no query word is known)

    @property
    def top(self) -> Hit | None:
        """The best hit, if any."""
        return self.hits[0] if self.hits else None


def entry_text(e: Entry) -> str:
    """All text of an entry, for BM25 (the title counts twice: it names the topic best)."""
    return " ".join([e.title, e.title, *e.questions, e.answer, *e.steps])


class HybridSearcher:
    """Search over one built index."""

    def __init__(self, built: BuiltIndex, embedder: Embedder) -> None:
        self.built = built
        self.embedder = embedder
        self.entries = built.entries
        self.by_id = {e.id: e for e in built.entries}
        row = {e.id: i for i, e in enumerate(built.entries)}
        self._doc_rows = np.array([row[d.entry_id] for d in built.docs], dtype=np.int64)  # doc id -> entry row
        self.lexical = LexicalIndex([entry_text(e) for e in built.entries])
        self.restorer = AccentRestorer.learn(
            t for e in built.entries for t in (e.title, *e.questions, e.answer, *e.steps, e.note)
        )

    def cosines(self, text: str) -> np.ndarray:
        """Best cosine per entry over its embedded texts (all of them: a few thousand dot products; an approximate
        index, for a very large knowledge base, is asked for its nearest texts only: bot/search/vector_index.py)."""
        return self.cosines_many([text])[0]

    def cosines_many(self, texts: list[str]) -> np.ndarray:
        """Best cosine per entry for each text, embedded in one batch: shape (len(texts), entries).

        An entry none of whose texts came back (from an approximate index) keeps -1."""
        best = np.full((len(texts), len(self.entries)), -1.0, dtype=np.float32)
        vecs = self.embedder.encode_queries(texts)
        sims, ids = self.built.vectors.search(vecs, search_depth(self.built.vectors))
        for q in range(len(texts)):
            found = ids[q] >= 0  # faiss pads with -1 when it returns fewer than asked
            np.maximum.at(best[q], self._doc_rows[ids[q][found]], sims[q][found])
        return best

    def search(self, query: str, k: int = 5) -> SearchResult:
        """Rank entries for a resident's question (a long one by its whole text and its asking clause)."""
        found = find_ask(query)
        restored = self.restorer.restore(found.cleaned)
        if not restored.strip():
            return SearchResult(query, restored, [], 0.0)
        if found.long and found.ask != found.cleaned:
            whole, ask = self.cosines_many([restored, self.restorer.restore(found.ask)])
            cosines = (1 - ASK_COSINE_SHARE) * whole + ASK_COSINE_SHARE * ask
            bm25 = self.lexical.scores(found.cleaned) + ASK_LEXICAL_BOOST * self.lexical.scores(found.ask)
        else:
            cosines = self.cosines(restored)
            bm25 = self.lexical.scores(found.cleaned)
        fused = np.zeros(len(self.entries), dtype=np.float64)
        for rank, row in enumerate(np.argsort(-cosines)):
            if cosines[row] > -1.0:
                fused[row] += 1.0 / (RRF_K + rank + 1)
        for rank, row in enumerate(np.argsort(-bm25)):
            if bm25[row] <= 0:
                break
            fused[row] += LEXICAL_WEIGHT / (RRF_K + rank + 1)
        order = np.argsort(-fused)[:k]
        rows = [int(r) for r in order if fused[r] > 0]
        overlaps = self.lexical.overlaps(found.ask if found.long else found.cleaned, rows)
        hits = [Hit(self.entries[r], float(fused[r]), float(cosines[r]), float(bm25[r]), o)
                for r, o in zip(rows, overlaps, strict=True)]
        return SearchResult(
            query, restored, hits, self.lexical.coverage(found.cleaned),
            ask=found.ask if found.long else "",
            top_by_cosine=self.entries[int(np.argmax(cosines))].id,
            top_by_bm25=self.entries[int(np.argmax(bm25))].id if bm25.max() > 0 else "",
        )
