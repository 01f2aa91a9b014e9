"""The index type switches by size (bot/search/vector_index.py), the approximate one finds what exact search finds,
search with a capped k ranks entries as exact search does, and bench.faiss_scale --quick writes its report."""

import json

import faiss
import numpy as np
import pytest

from bench import faiss_scale
from bot.search.hybrid import HybridSearcher
from bot.search.index import Doc, build_index, load_index
from bot.search.vector_index import (
    CAPPED_K,
    NPROBE,
    index_kind,
    is_approximate,
    lists_for,
    new_index,
    search_depth,
)
from tests.conftest import make_entry


def clustered(n: int, dim: int = 64, centres: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few random unit centres, about cosine 0.7 to theirs (random vectors would have no
    neighbours worth finding). Queries are the last rows of a larger draw with the same seed (the same centres)."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    x = c[rng.integers(0, centres, n)] + 0.12 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_below_the_threshold_and_ivf_from_it():
    x = clustered(300)
    below, at = new_index(x, approximate_from=301), new_index(x, approximate_from=300)
    assert index_kind(below) == "flat" and not is_approximate(below) and search_depth(below) == 300
    assert index_kind(at) == "ivf" and is_approximate(at) and search_depth(at) == min(CAPPED_K, 300)
    assert below.ntotal == at.ntotal == 300


def test_the_default_threshold_keeps_a_knowledge_base_of_our_size_flat():
    index = new_index(clustered(5000))
    assert index_kind(index) == "flat" and search_depth(index) == 5000  # every vector, as before


def test_approximate_index_finds_the_exact_neighbours():
    both = clustered(20_200, seed=1)
    x, queries = both[:20_000], both[20_000:]
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(queries, 10)
    approximate = new_index(x, approximate_from=1000)
    assert faiss.extract_index_ivf(approximate).nprobe < faiss.extract_index_ivf(approximate).nlist  # not every cell
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(np.intersect1d(f, t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.9


def test_cells_grow_with_the_square_root_and_stay_trainable():
    assert lists_for(1_000_000) == 4000 and lists_for(200_000) == 1789
    assert lists_for(1000) == 1000 // 39 and lists_for(10) == 1  # at least 39 training points per cell


def test_build_index_records_the_kind_and_loads_it(tmp_path, small_entries, fake_embedder):
    built = load_index(build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False, approximate_from=1))
    assert built.meta["vector_index"] == "ivf" and is_approximate(built.vectors)
    assert faiss.extract_index_ivf(built.vectors).nprobe == min(NPROBE, faiss.extract_index_ivf(built.vectors).nlist)
    flat = load_index(build_index(small_entries, fake_embedder, "fake", tmp_path / "flat", progress=False))
    assert flat.meta["vector_index"] == "flat" and not is_approximate(flat.vectors)


class VectorEmbedder:
    """Queries are given as vectors already (texts are their row numbers)."""

    name = "vectors"

    def __init__(self, queries: np.ndarray) -> None:
        self.queries = queries

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.queries[[int(t) for t in texts]]

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        raise AssertionError("not used")


@pytest.fixture
def many_entries():
    """600 entries of 20 texts each (12,000 vectors, clustered: more cells than NPROBE), and 40 queries."""
    entries = [make_entry(f"vneid-e{i}", f"Mục {i}", [f"câu {i}"]) for i in range(600)]
    docs = [Doc(e.id, "question", f"{e.id}-{j}") for e in entries for j in range(20)]
    both = clustered(len(docs) + 40, seed=3)
    return entries, docs, both[: len(docs)], both[len(docs) :]


def searcher(tmp_path, entries, docs, vectors, embedder, approximate_from):
    from bot.search.index import BuiltIndex

    return HybridSearcher(BuiltIndex(tmp_path, entries, docs, new_index(vectors, approximate_from), {}), embedder)


def test_capped_search_gives_the_same_top_entries_as_exact(tmp_path, many_entries):
    entries, docs, vectors, queries = many_entries
    embedder = VectorEmbedder(queries)
    texts = [str(i) for i in range(len(queries))]
    exact = searcher(tmp_path, entries, docs, vectors, embedder, approximate_from=10**9).cosines_many(texts)
    capped = searcher(tmp_path, entries, docs, vectors, embedder, approximate_from=1).cosines_many(texts)
    assert (exact > -1).all()  # exact search scores every entry
    assert ((capped > -1).sum(axis=1) < len(entries)).all()  # capped search leaves most at -1
    for e, c in zip(exact, capped, strict=True):
        top = np.argsort(-e)[:5]
        assert list(np.argsort(-c)[:5]) == list(top)
        assert np.allclose(c[top], e[top], atol=1e-5)  # the same cosines for the entries it returns


def test_the_benchmark_quick_mode_writes_its_report(tmp_path):
    assert faiss_scale.main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "faiss_scale.json").read_text(encoding="utf-8"))
    assert [s["n"] for s in result["sizes"]] == [2000, 5000]
    for size in result["sizes"]:
        rows = {r["method"]: r for r in size["methods"]}
        assert set(rows) == {"flat", "ivf", "hnsw"}
        assert rows["flat"]["recall"]["synthetic"] == 1.0
        assert all(r["latency"]["1"]["p50_ms"] > 0 and r["bytes"] > 0 for r in rows.values())
    text = (tmp_path / "faiss_scale.md").read_text(encoding="utf-8")
    assert "| 5,000 | hnsw |" in text and "(faiss_scale.png)" in text and result["machine"]["cores"] > 0
    assert (tmp_path / "faiss_scale.png").stat().st_size > 0
