"""BM25 over de-accented syllables and bigrams: finds 'quen mk' as readily as 'quên mật khẩu'."""

from __future__ import annotations

import math
from collections import Counter

import bm25s
import numpy as np

from bot.core.text import search_terms


class LexicalIndex:
    """BM25 (bm25s) with one document per knowledge entry, plus term document frequencies."""

    def __init__(self, documents: list[str]) -> None:
        tokenized = [search_terms(d) or ["_"] for d in documents]
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokenized, show_progress=False)
        self.vocabulary = set(self._bm25.vocab_dict)
        self.size = len(documents)
        self._df = Counter(t for terms in tokenized for t in set(terms))
        self._terms = [set(terms) for terms in tokenized]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query (zeros when no term is known)."""
        terms = [t for t in search_terms(query) if t in self.vocabulary]
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

    def share(self, term: str) -> float:
        """The share of entries holding a term (a syllable or a pair "mat_khau"): 0 for a term the base never uses."""
        return self._df.get(term, 0) / self.size if self.size else 0.0

    def _idf(self, term: str) -> float:
        return math.log((self.size + 1) / (self._df.get(term, 0) + 0.5))

    def overlaps(self, query: str, docs: list[int]) -> list[float]:
        """Per document, the share of the query's known meaning (rarity-weighted syllables and pairs) it holds.

        High when the entry holds the question's rare words ('tạm trú', 'B2'); it tells a right match
        from a near one better than BM25's score, which grows with the length of the question."""
        weights = {t: self._idf(t) for t in set(search_terms(query)) if t in self._df}
        total = sum(weights.values())
        if not total:
            return [0.0] * len(docs)
        return [sum(w for t, w in weights.items() if t in self._terms[d]) / total for d in docs]

    def coverage(self, query: str) -> float:
        """How much of the query's meaning the knowledge base has words for, from 0 to 1.

        Word pairs (bigrams) weighted by rarity: 'hôm nay có nắng không' shares common single
        syllables with the base but hardly any pairs; single-word queries fall back to syllables.
        """
        terms = search_terms(query)
        pairs = [t for t in terms if "_" in t] or terms
        if not pairs:
            return 0.0
        total = sum(self._idf(t) for t in pairs)
        return sum(self._idf(t) for t in pairs if t in self._df) / total
