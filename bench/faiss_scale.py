"""`python -m bench.faiss_scale`: exact search against IVF and HNSW at 10k, 100k and 1M passage vectors.

Semantic search keeps 384-dim unit vectors (multilingual-e5-small) in FAISS and asks them by inner product. Our
knowledge base has a few thousand; this measures what a million would cost. Random vectors have no structure and
make IVF look far worse than it is on real text, so the passages are clustered: a mixture of Gaussians around
CENTRES centres, normalised. When the search index is built (`make index`), its real vectors (fine-tuned model) are
mixed in, the synthetic centres and spreads are drawn from the shape of those real vectors (their mean and
covariance, so the synthetic passages sit where e5 puts text and crowd the real ones), and the questions of
tests/data/real_dev.jsonl (never real_test), embedded by the same model, are a second query set.

Per size: exact search (IndexFlatIP), IVF (IndexIVFFlat, nlist = 4 sqrt(N)) and HNSW (IndexHNSWFlat, M 32);
nprobe and efSearch are swept and the smallest one that reaches recall@10 >= TARGET_RECALL against the exact answer
on every query set is kept. Then: single-query latency (p50/p95, k=10) with 1 and 2 threads, build time (2 threads),
the index's bytes on disk, its load time and the process's RSS. "Search path" is what bot/search/hybrid.py pays per
message: the exact index asked for every vector (k = ntotal) or the approximate one asked for CAPPED_K, then the best
cosine per entry (10 texts per entry here). Writes bench/faiss_scale.md, .json and .png (`--out` elsewhere).
`--quick`: small sizes and no real vectors, for the test.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from bot.core.settings import ROOT
from bot.search.vector_index import CAPPED_K, TRAINING_PER_LIST, lists_for

DIM = 384
CENTRES = 2000
# Spread of the points around their centre: isotropic, about cosine 0.7 to it; in the e5 shape, a share of the real
# vectors' covariance (about cosine 0.9 to the centre, 0.8 between points of one centre, as phrasings of one entry).
SPREAD_RANDOM = 0.05
SPREAD_E5 = 0.7
TARGET_RECALL = 0.95
K = 10
BUILD_THREADS = 2
TEXTS_PER_ENTRY = 10  # about the product's ratio (titles, questions and answers of 368 entries)
NPROBES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
EF_SEARCHES = (16, 32, 64, 128, 256, 512)
REAL_QUESTIONS = ROOT / "tests/data/real_dev.jsonl"  # the dev split only: real_test stays unseen
CHUNK = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40  # faiss's default


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def progress(total: int, desc: str, quiet: bool):
    try:
        from tqdm import tqdm
    except ImportError:  # no bar, same work
        return None
    return tqdm(total=total, desc=desc, unit="vec", disable=quiet, leave=False)


class Mixture:
    """Clustered unit vectors: centres, and points around them. `shape` (mean, Cholesky factor of the covariance)
    puts both where real e5 vectors lie; without it the centres are random directions with isotropic spread."""

    def __init__(self, centres: int, seed: int, shape: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.shape = shape
        mean = 0.0 if shape is None else shape[0]
        self.centres = self._normalised(mean + self._noise(centres, 1.0))

    def _noise(self, n: int, scale: float) -> np.ndarray:
        z = self.rng.standard_normal((n, DIM), dtype=np.float32)
        return scale * (z if self.shape is None else z @ self.shape[1].T)

    @staticmethod
    def _normalised(x: np.ndarray) -> np.ndarray:
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def sample(self, n: int) -> np.ndarray:
        """n points, each near a random centre."""
        out = np.empty((n, DIM), dtype=np.float32)
        spread = SPREAD_RANDOM if self.shape is None else SPREAD_E5
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            picked = self.centres[self.rng.integers(0, len(self.centres), m)]
            out[start : start + m] = self._normalised(picked + self._noise(m, spread))
        return out


def real_vectors() -> tuple[np.ndarray, str] | None:
    """The built index's vectors and its model fingerprint, or None when nothing was built."""
    from bot.core.settings import Settings
    from bot.search.index import current_path

    path = current_path(Settings.from_env().index_dir)
    if path is None or not (path / "vectors.faiss").exists():
        return None
    index = faiss.read_index(str(path / "vectors.faiss"))
    flat = faiss.downcast_index(index.index if isinstance(index, faiss.IndexIDMap) else index)
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    return flat.reconstruct_n(0, flat.ntotal).astype(np.float32), meta["model"]


def embed_questions(out: Path) -> None:
    """In a process of its own (so onnxruntime's threads are gone when timing starts): real_dev's questions
    embedded by the serving model, and its fingerprint."""
    from bot.core.settings import Settings
    from bot.search.onnx_embedder import e5_embedder

    rows = [json.loads(line) for line in REAL_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    model = e5_embedder(Settings.from_env().model_dir)
    texts = [r["q"] for r in rows]
    vecs = np.concatenate([model.encode_queries(texts[i : i + 32]) for i in range(0, len(texts), 32)])
    np.save(out, vecs.astype(np.float32))
    out.with_suffix(".model").write_text(model.fingerprint(), encoding="utf-8")


def real_questions() -> tuple[np.ndarray, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "questions.npy"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(BUILD_THREADS)}
        subprocess.run([sys.executable, "-m", "bench.faiss_scale", "--embed-questions", str(out)], env=env,
                       check=True)
        return np.load(out), out.with_suffix(".model").read_text(encoding="utf-8")


# ---- building


def build_flat(x: np.ndarray, quiet: bool) -> tuple[faiss.Index, dict]:
    index = faiss.IndexFlatIP(DIM)
    _add(index, x, "flat", quiet)
    return index, {}


def build_ivf(x: np.ndarray, quiet: bool) -> tuple[faiss.Index, dict]:
    nlist = lists_for(len(x))  # as bot/search/vector_index.py builds it: 4 sqrt(N)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    train_n = min(len(x), TRAINING_PER_LIST * nlist)
    sample = x[np.random.default_rng(1).choice(len(x), train_n, replace=False)]
    started = time.perf_counter()
    index.train(sample)
    train_s = time.perf_counter() - started
    _add(index, x, "ivf", quiet)
    return index, {"nlist": nlist, "train_points": train_n, "train_s": round(train_s, 1)}


def build_hnsw(x: np.ndarray, quiet: bool) -> tuple[faiss.Index, dict]:
    index = faiss.IndexHNSWFlat(DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    _add(index, x, "hnsw", quiet)
    return index, {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}


def _add(index: faiss.Index, x: np.ndarray, name: str, quiet: bool) -> None:
    bar = progress(len(x), f"{name} {len(x):,}", quiet)
    for start in range(0, len(x), CHUNK):
        index.add(x[start : start + CHUNK])
        if bar is not None:
            bar.update(min(CHUNK, len(x) - start))
    if bar is not None:
        bar.close()


BUILDERS: dict[str, Callable[[np.ndarray, bool], tuple[faiss.Index, dict]]] = {
    "flat": build_flat, "ivf": build_ivf, "hnsw": build_hnsw,
}


def set_knob(index: faiss.Index, value: int | None) -> None:
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = value
    elif isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = value


def knobs(index: faiss.Index) -> tuple[str, list[int | None]]:
    if isinstance(index, faiss.IndexIVF):
        return "nprobe", [p for p in NPROBES if p <= index.nlist]
    if isinstance(index, faiss.IndexHNSW):
        return "efSearch", list(EF_SEARCHES)
    return "", [None]


# ---- measuring


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact top-K ids found in the approximate top-K, over all queries."""
    return float(np.mean([len(np.intersect1d(f, t)) / t.shape[0] for f, t in zip(found, truth, strict=True)]))


def latency(index: faiss.Index, queries: np.ndarray, k: int, threads: int,
            after: Callable[[np.ndarray, np.ndarray], object] | None = None) -> dict:
    """Single-query wall time (ms): one search call per query, after a warm-up."""
    faiss.omp_set_num_threads(threads)
    for q in queries[:3]:
        index.search(q[None], k)
    times = []
    for q in queries:
        started = time.perf_counter()
        sims, ids = index.search(q[None], k)
        if after is not None:
            after(sims, ids)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 3), "p95_ms": round(times[min(len(times) - 1,
                                                                                  int(len(times) * 0.95))], 3),
            "queries": len(times)}


def best_cosine_per_entry(n: int) -> Callable[[np.ndarray, np.ndarray], object]:
    """What hybrid.py does with the results: the best cosine per entry (TEXTS_PER_ENTRY texts each)."""
    rows = np.arange(n, dtype=np.int64) // TEXTS_PER_ENTRY
    entries = int(rows[-1]) + 1

    def reduce(sims: np.ndarray, ids: np.ndarray) -> np.ndarray:
        best = np.full(entries, -1.0, dtype=np.float32)
        found = ids[0] >= 0
        np.maximum.at(best, rows[ids[0][found]], sims[0][found])
        return best

    return reduce


def measure_size(n: int, methods: list[str], mixture: Mixture, real: np.ndarray | None,
                 query_sets: dict[str, np.ndarray], latency_queries: int, threads: list[int], quiet: bool) -> dict:
    """Every method at one size; the vectors are built once and the indexes one at a time (memory)."""
    gc.collect()
    base_rss = rss_mb()
    x = mixture.sample(n)
    if real is not None:
        spots = np.random.default_rng(n).choice(n, min(len(real), n // 2), replace=False)
        x[spots] = real[: len(spots)]
    timing = np.concatenate(list(query_sets.values()))
    timing = timing[np.random.default_rng(2).permutation(len(timing))][:latency_queries]
    faiss.omp_set_num_threads(BUILD_THREADS)
    truth: dict[str, np.ndarray] = {}
    top1: dict[str, float] = {}
    rows = []
    data_rss = rss_mb()
    for name in methods:
        gc.collect()
        before = rss_mb()
        faiss.omp_set_num_threads(BUILD_THREADS)
        started = time.perf_counter()
        built, params = BUILDERS[name](x, quiet)
        build_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as tmp:  # the bytes served, and how long a process takes to load them
            path = Path(tmp) / "index.faiss"
            faiss.write_index(built, str(path))
            size = path.stat().st_size
            del built
            gc.collect()
            started = time.perf_counter()
            index = faiss.read_index(str(path))
            load_s = time.perf_counter() - started
        rss_index = rss_mb() - before
        if name == "flat":
            for qname, q in query_sets.items():
                sims, truth[qname] = index.search(q, K)
                top1[qname] = round(float(np.median(sims[:, 0])), 3)
        knob, values = knobs(index)
        sweep = []
        for value in values:
            set_knob(index, value)
            faiss.omp_set_num_threads(BUILD_THREADS)
            recalls = {qname: round(recall(index.search(q, K)[1], truth[qname]), 4) if truth else 1.0
                       for qname, q in query_sets.items()}
            point = {"value": value, "recall": recalls,
                     **latency(index, timing[: max(20, latency_queries // 3)], K, 1)}
            sweep.append(point)
            if not quiet:
                print(f"  {n:>9,} {name:<5} {knob or '-'} {value}: {recalls} p50 {point['p50_ms']} ms", flush=True)
        # the smallest setting that reaches the target is the one kept (the largest tried when none does)
        chosen = next((p for p in sweep if min(p["recall"].values()) >= TARGET_RECALL), sweep[-1])
        set_knob(index, chosen["value"])
        lat = {str(t): latency(index, timing, K, t) for t in threads}
        depth = n if name == "flat" else min(CAPPED_K, n)
        product_queries = timing[: max(10, min(latency_queries, 5_000_000 // n))] if name == "flat" else timing
        path_lat = latency(index, product_queries, depth, 1, best_cosine_per_entry(n))
        rows.append({
            "method": name, "n": n, "params": params, "knob": knob, "value": chosen["value"],
            "recall": chosen["recall"], "latency": lat, "search_path": {"k": depth, **path_lat},
            "build_s": round(build_s, 1), "load_s": round(load_s, 2), "bytes": size,
            "rss_mb": round(rss_index, 1), "rss_total_mb": round(rss_mb(), 1), "sweep": sweep,
        })
        if not quiet:
            print(f"  {n:>9,} {name:<5} kept {knob or '-'} {chosen['value']}: recall {chosen['recall']}, "
                  f"latency {lat}, search path {path_lat}, build {build_s:.1f} s, {size / 2**20:.0f} MB", flush=True)
        del index
    return {"n": n, "real_vectors_mixed": 0 if real is None else int(min(len(real), n // 2)),
            "vectors_rss_mb": round(data_rss - base_rss, 1), "median_top1_cosine": top1, "methods": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated vector counts")
    ap.add_argument("--methods", default="flat,ivf,hnsw")
    ap.add_argument("--threads", default="1,2", help="thread counts for the latency runs")
    ap.add_argument("--queries", type=int, default=400, help="synthetic queries; latency uses up to this many")
    ap.add_argument("--no-real", action="store_true", help="synthetic vectors only, even when an index is built")
    ap.add_argument("--quick", action="store_true", help="sizes 2000 and 5000, few queries, no real vectors")
    ap.add_argument("--out", type=Path, default=ROOT / "bench")
    ap.add_argument("--embed-questions", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.embed_questions:
        embed_questions(args.embed_questions)
        return 0
    from bench.faiss_scale_report import write
    from bench.machine import machine

    methods = ["flat", *(m for m in args.methods.split(",") if m != "flat")]  # flat first: the exact answer
    sizes = [2000, 5000] if args.quick else [int(s) for s in args.sizes.split(",")]
    n_queries = 60 if args.quick else args.queries
    found = None if (args.no_real or args.quick) else real_vectors()
    real, shape, query_sets, model = None, None, {}, ""
    if found is not None:
        real, model = found
        questions, q_model = real_questions()
        if q_model != model:
            raise SystemExit(f"the built index is of {model}, the serving model is {q_model}: run make index")
        query_sets["real_dev"] = questions
        cov = np.cov(real, rowvar=False) + 1e-6 * np.eye(DIM)
        shape = (real.mean(axis=0).astype(np.float32), np.linalg.cholesky(cov).astype(np.float32))
    mixture = Mixture(50 if args.quick else CENTRES, seed=0, shape=shape)
    query_sets = {"synthetic": mixture.sample(n_queries), **query_sets}
    load = os.getloadavg()
    sizes_out = []
    for n in sizes:
        print(f"{n:,} vectors", flush=True)
        sizes_out.append(measure_size(n, methods, mixture, real, query_sets, n_queries,
                                      [int(t) for t in args.threads.split(",")], args.quick))
    result = {
        "machine": machine(), "load_average": load, "faiss": faiss.__version__, "dim": DIM, "k": K,
        "target_recall": TARGET_RECALL, "capped_k": CAPPED_K, "build_threads": BUILD_THREADS,
        "centres": len(mixture.centres), "shape": "e5 (real vectors' mean and covariance)" if shape else "random",
        "real_vectors": 0 if real is None else len(real), "model": model,
        "query_sets": {name: len(q) for name, q in query_sets.items()}, "sizes": sizes_out,
    }
    write(result, args.out)
    print((args.out / "faiss_scale.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
