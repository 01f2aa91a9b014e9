"""Query vectors kept in memory, most recently used first: the same words are never embedded twice while they stay.

Residents ask the same short questions again and again ("quen mat khau vneid"), and one message is searched more
than once (its two asks, the whole story and its asking clause, a follow-up with and without its context): embedding
the query was 80 % of the action server's CPU per message (bench/profile.md). A vector depends only on the model
and the text, so a cached one is exactly the vector the model would give. Bounded: 384 floats = 1.5 KB a text, so
the default 20,000 texts hold about 30 MB. `BOT_QUERY_CACHE=0` turns it off.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

SIZE_ENV = "BOT_QUERY_CACHE"
DEFAULT_SIZE = 20_000


def size_from_env() -> int:
    """How many query vectors to keep: BOT_QUERY_CACHE (0 turns the cache off), else DEFAULT_SIZE."""
    raw = os.environ.get(SIZE_ENV, "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_SIZE


class CachedQueryEmbedder:
    """Wraps an embedder: encode_queries answers from the cache and embeds only the texts it has not seen, in one
    batch; passages (publishing) go straight through. Thread-safe; hits and misses are counted for the benchmarks."""

    def __init__(self, inner: Any, size: int = DEFAULT_SIZE, shared: Any = None) -> None:
        self.inner = inner
        self.shared = shared  # a second tier every process reads (bot/search/shared_vectors.py), or None
        self.name = inner.name
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.shared_hits = 0

    def _keep(self, vectors: dict[str, np.ndarray]) -> None:
        """Remember `vectors` (read-only from now on: every later caller shares them), the oldest going first."""
        with self._lock:
            for text, vec in vectors.items():
                vec.setflags(write=False)
                if self.size > 0:
                    self._vectors[text] = vec
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                vec = self._vectors.get(text)
                if vec is not None:
                    self._vectors.move_to_end(text)
                    found[text] = vec
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        self.hits += sum(1 for t in texts if t in found)
        self.misses += len(missing)
        if missing and self.shared is not None:
            from_shared = self.shared.get_many(missing)
            self.shared_hits += len(from_shared)
            found.update(from_shared)
            missing = [t for t in missing if t not in from_shared]
            self._keep(from_shared)
        if missing:
            fresh = dict(zip(missing, self.inner.encode_queries(missing), strict=True))
            if self.shared is not None:
                self.shared.put_many(fresh)
            found.update(fresh)
            self._keep(fresh)
        if not texts:
            return self.inner.encode_queries(texts)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.inner.encode_passages(texts, progress=progress)

    def fingerprint(self) -> str:
        return str(self.inner.fingerprint())

    def __getattr__(self, name: str) -> Any:  # model_dir, threads, ... of the wrapped embedder
        return getattr(self.inner, name)


def with_query_cache(embedder: Any, size: int | None = None, shared: Any = None) -> Any:
    """The embedder behind a query cache of `size` (BOT_QUERY_CACHE by default) and the `shared` tier, if any; the
    embedder itself when the size is 0 and nothing is shared."""
    size = size_from_env() if size is None else size
    return CachedQueryEmbedder(embedder, size, shared) if size > 0 or shared is not None else embedder
