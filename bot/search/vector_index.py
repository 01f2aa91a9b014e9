"""The FAISS index of the embedded texts: exact (flat) for a knowledge base of our size, IVF above a size.

Search wants the best cosine per entry, so an exact index is asked for every vector (k = ntotal): a few thousand
dot products today. At a hundred thousand vectors that one query costs tens of milliseconds, so from
APPROXIMATE_FROM vectors on the index is inverted lists (IVF: k-means cells, the query's nearest NPROBE cells
scanned) asked for the CAPPED_K nearest vectors only; the entries it does not return keep a cosine of -1
(bot/search/hybrid.py). Measured in bench/faiss_scale.md, summarised in docs/scaling.md.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

# bench/faiss_scale.md, 1 thread as the action server runs: search's exact path (every vector, then the best cosine
# per entry) costs 1.4 ms per text at 10k vectors, 19 ms at 100k and 255 ms at 1M, against about 42 ms to embed the
# query; IVF answers in 1-2.5 ms at 100k-1M with recall@10 0.98 on real questions. Below 100k exact search is
# affordable and exact; a knowledge base of our size (about 4,000 texts) keeps exactly today's behaviour.
APPROXIMATE_FROM = 100_000
CAPPED_K = 256  # vectors asked of an approximate index per query: far more than the entries search shows
LISTS_PER_SQRT = 4  # nlist = 4 sqrt(n): cells of about sqrt(n) / 4 vectors
MIN_TRAINING_PER_LIST = 39  # faiss's k-means warns below 39 training points per cell
TRAINING_PER_LIST = 64  # k-means on a sample (faiss would take 256 per cell): about 2 minutes at 1M on 2 cores
NPROBE = 128  # cells scanned per query: the sweep's first with recall@10 >= 0.95 on real_dev at 100k and 1M


def lists_for(n: int) -> int:
    """How many cells for n vectors: 4 sqrt(n), fewer when there would not be enough points to train them."""
    return max(1, min(round(LISTS_PER_SQRT * math.sqrt(n)), n // MIN_TRAINING_PER_LIST))


def new_index(vectors: np.ndarray, approximate_from: int = APPROXIMATE_FROM) -> faiss.Index:
    """An index of these unit vectors (inner product = cosine), ids 0..n-1: flat below `approximate_from`, IVF
    from it on."""
    n, dim = vectors.shape
    if n < approximate_from:
        inner: faiss.Index = faiss.IndexFlatIP(dim)
    else:
        # faiss's Python wrapper keeps the quantizer alive with the index (and IndexIDMap the index)
        inner = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists_for(n), faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(n, min(n, TRAINING_PER_LIST * inner.nlist), replace=False)
        inner.train(vectors[np.sort(sample)])
    index = faiss.IndexIDMap(inner)
    index.add_with_ids(vectors, np.arange(n, dtype=np.int64))
    return prepare(index)


def _inner(index: faiss.Index) -> faiss.Index:
    return faiss.downcast_index(index.index if isinstance(index, faiss.IndexIDMap) else index)


def is_approximate(index: faiss.Index) -> bool:
    """Whether the index may miss some of the nearest vectors (anything but a flat index)."""
    return not isinstance(_inner(index), faiss.IndexFlat)


def prepare(index: faiss.Index) -> faiss.Index:
    """Set the search-time knob after building or loading (a changed NPROBE needs no rebuild)."""
    inner = _inner(index)
    if isinstance(inner, faiss.IndexIVF):
        inner.nprobe = min(NPROBE, inner.nlist)
    return index


def search_depth(index: faiss.Index, capped_k: int = CAPPED_K) -> int:
    """How many vectors to ask for: every one of an exact index (unchanged behaviour), `capped_k` of an approximate
    one."""
    return min(capped_k, index.ntotal) if is_approximate(index) else index.ntotal


def index_kind(index: faiss.Index) -> str:
    """A short name for meta.json: flat, ivf or the faiss class name."""
    inner = _inner(index)
    if isinstance(inner, faiss.IndexFlat):
        return "flat"
    return "ivf" if isinstance(inner, faiss.IndexIVFFlat) else type(inner).__name__
