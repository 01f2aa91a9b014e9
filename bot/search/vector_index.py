"""The FAISS index of the embedded texts: exact (flat) for a knowledge base of our size, HNSW above a size.

Search wants the best cosine per entry, so an exact index is asked for every vector (k = ntotal): a few thousand
dot products today. At hundreds of thousands of vectors that one query costs tens of milliseconds and a large
sort, so above APPROXIMATE_FROM vectors the index is a graph (HNSW) asked for the CAPPED_K nearest vectors only;
the entries it does not return keep a cosine of -1 (bot/search/hybrid.py). Measured in bench/faiss_scale.md.
"""

from __future__ import annotations

import faiss
import numpy as np

# Chosen from bench/faiss_scale.md (the measurements are summarised in docs/scaling.md).
APPROXIMATE_FROM = 200_000
CAPPED_K = 256  # vectors asked of an approximate index per query: far more than the entries search shows
HNSW_M = 32  # graph neighbours per vector (memory: about 2 * M * 4 bytes per vector besides the vector itself)
HNSW_EF_CONSTRUCTION = 40  # faiss's default: the build is the slow part
HNSW_EF_SEARCH = 128  # the search uses max(efSearch, k): with CAPPED_K it explores at least 256 candidates


def new_index(vectors: np.ndarray, approximate_from: int = APPROXIMATE_FROM) -> faiss.Index:
    """An index of these unit vectors (inner product = cosine), ids 0..n-1: flat below `approximate_from`, HNSW
    from it on."""
    dim = vectors.shape[1]
    if len(vectors) < approximate_from:
        inner: faiss.Index = faiss.IndexFlatIP(dim)
    else:
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index = faiss.IndexIDMap(inner)
    index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    prepare(index)
    return index


def _inner(index: faiss.Index) -> faiss.Index:
    return faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else faiss.downcast_index(index)


def is_approximate(index: faiss.Index) -> bool:
    """Whether the index may miss some of the nearest vectors (anything but a flat index)."""
    return not isinstance(_inner(index), faiss.IndexFlat)


def prepare(index: faiss.Index) -> faiss.Index:
    """Set the search-time knobs (not all survive in the file, and a changed constant needs no rebuild)."""
    inner = _inner(index)
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def search_depth(index: faiss.Index, capped_k: int = CAPPED_K) -> int:
    """How many vectors to ask for: every one of an exact index (unchanged behaviour), `capped_k` of an approximate
    one."""
    return min(capped_k, index.ntotal) if is_approximate(index) else index.ntotal


def index_kind(index: faiss.Index) -> str:
    """A short name for meta.json: flat or hnsw."""
    return "hnsw" if isinstance(_inner(index), faiss.IndexHNSW) else "flat" if not is_approximate(index) else "other"
