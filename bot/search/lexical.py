"""BM25 over de-accented syllables and bigrams: finds 'quen mk' as readily as 'quên mật khẩu'."""

from __future__ import annotations

import bm25s
import numpy as np

from bot.text import search_terms


class LexicalIndex:
    """BM25 (bm25s) with one document per knowledge entry."""

    def __init__(self, documents: list[str]) -> None:
        self._bm25 = bm25s.BM25()
        self._bm25.index([search_terms(d) or ["_"] for d in documents], show_progress=False)
        self.vocabulary = set(self._bm25.vocab_dict)
        self.size = len(documents)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query (zeros when no term is known)."""
        terms = [t for t in search_terms(query) if t in self.vocabulary]
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

    def coverage(self, query: str) -> float:
        """Share of the query's syllables that occur anywhere in the knowledge base."""
        syllables = [t for t in search_terms(query) if "_" not in t]
        if not syllables:
            return 0.0
        return sum(t in self.vocabulary for t in syllables) / len(syllables)
