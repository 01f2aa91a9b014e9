"""`python -m bench.embed_speed`: one query embedding with torch against onnxruntime (the export, and int8 weights).

The serving path embeds one resident's message at a time (two texts for a long one), so this times single queries:
the first QUESTIONS questions of tests/data/real_dev.jsonl, "query: "-prefixed like serving, one call each, after a
warm-up, with 1 and 2 threads (the action server runs 1 per worker: bot/action_server.py). Each backend and thread
count runs in its own process, which also reports its memory (RSS after loading). The vectors of every backend are
compared with torch's (lowest and mean cosine). `int8` is the export with int8 weights made here on the fly
(onnxruntime's dynamic quantisation, one scale per output channel), as a candidate: serving does not use it.
`--real` also builds each backend's index of knowledge/ (a few minutes each) and grades tests/data/real_dev.jsonl in
process: hybrid and e5 top-1/top-3, and the answer/ask-back/decline outcomes. Writes bench/embed_speed.md and .json
with the machine and its load.

Needs the export (`python -m bot.indexing.e5_onnx`, which set-up runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.core.settings import ROOT, Settings

QUESTIONS = 200
WARMUP = 10
OUT = ROOT / "bench"


def questions(n: int = QUESTIONS) -> list[str]:
    rows = (json.loads(line) for line in (ROOT / "tests/data/real_dev.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip())
    return [r["q"] for r in rows][:n]


def quantized(export: Path, folder: Path) -> Path:
    """The export with int8 weights for its matrix products, in `folder` (with its tokenizer)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from bot.search.onnx_embedder import TOKENIZER

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(export.parent / TOKENIZER, folder / TOKENIZER)
    target = folder / "model.int8.onnx"
    quantize_dynamic(str(export), str(target), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                     per_channel=True)
    return target


def embedder(backend: str, model_dir: Path, int8_file: Path | None = None):
    """The embedder of one backend: torch, onnx (the export) or int8 (`int8_file`)."""
    if backend == "torch":
        from bot.search.embedder import E5Embedder

        return E5Embedder(model_dir)
    from bot.search.onnx_embedder import OnnxE5Embedder, exported_file

    found = exported_file(model_dir) if backend == "onnx" else int8_file
    if found is None:
        raise FileNotFoundError(f"no ONNX export in {model_dir}: python -m bot.indexing.e5_onnx")
    return OnnxE5Embedder(model_dir, found)


def grade_real(model, model_dir: Path) -> dict:
    """This embedder's own index of knowledge/, then real_dev graded in process (retrieval and outcomes)."""
    from bench import real
    from bot.knowledge.loader import load_entries
    from bot.replies.answers import answer_question
    from bot.search.decide import Thresholds
    from bot.search.hybrid import HybridSearcher
    from bot.search.index import build_index, load_index

    settings = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        built = load_index(build_index(load_entries(settings.knowledge_dir), model, f"bench-{model.name}", Path(tmp),
                                       progress=False))
    searcher, thresholds = HybridSearcher(built, model), Thresholds.load(settings.calibration_file)
    items = real.load(ROOT / "tests/data/real_dev.jsonl")
    outcomes = []
    for it in items:
        reply = answer_question(it["q"], searcher, thresholds)
        offered = [e for e in (real._button_entry(b) for b in reply.buttons) if e]
        outcomes.append(real._outcome(it, reply.entry_id, offered))
    summary = real.summarise(outcomes)
    return {"retrieval": real.retrieval(searcher, items),
            **{k: summary[k] for k in ("answerable", "right", "asked back", "declined", "wrong")}}


def run_one(backend: str, threads: int, model_dir: Path, vectors_out: Path, int8_file: Path | None = None,
            grade: bool = False) -> dict:
    """Time one backend in this process (started with OMP_NUM_THREADS=threads)."""
    import psutil

    texts = questions()
    model = embedder(backend, model_dir, int8_file)
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
    model.encode_queries(texts[:WARMUP])
    times, cpu, vectors = [], [], []
    for text in texts:
        started, started_cpu = time.perf_counter(), time.process_time()
        vectors.append(model.encode_queries([text])[0])
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    np.save(vectors_out, np.stack(vectors))
    ordered = sorted(times)
    return {"backend": backend, "threads": threads, "queries": len(times),
            "mean_ms": round(statistics.fmean(times), 2), "p50_ms": round(ordered[len(ordered) // 2], 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95)], 2), "cpu_ms": round(statistics.fmean(cpu), 2),
            "rss_mb": round(psutil.Process().memory_info().rss / 2**20),
            **({"real_dev": grade_real(model, model_dir)} if grade else {})}


def measure(model_dir: Path, backends: list[str], threads: list[int], grade: bool = False) -> dict:
    """Every backend at every thread count, each in a fresh process; cosines against torch's vectors."""
    from bot.search.onnx_embedder import exported_file

    rows, vectors = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        export = exported_file(model_dir)
        int8_file = quantized(export, Path(tmp) / "int8") if "int8" in backends and export else None
        for backend in backends:
            for i, n in enumerate(threads):
                out = Path(tmp) / f"{backend}-{n}.npy"
                path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
                env = {**os.environ, "OMP_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n), "PYTHONPATH": path}
                extra = ["--int8-file", str(int8_file)] if int8_file else []
                extra += ["--real"] if grade and i == 0 else []
                done = subprocess.run([sys.executable, "-m", "bench.embed_speed", "--one", backend, str(n),
                                       "--model", str(model_dir), "--vectors", str(out), *extra],
                                      env=env, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"{backend} with {n} threads failed:\n{done.stderr[-3000:]}")
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                vectors.setdefault(backend, np.load(out))
                print(rows[-1], flush=True)
    agreement = {}
    for backend, vecs in vectors.items():
        cos = np.sum(vecs * vectors["torch"], axis=1)
        agreement[backend] = {"min_cosine": round(float(cos.min()), 5), "mean_cosine": round(float(cos.mean()), 5)}
    return {"rows": rows, "agreement": agreement}


def report(result: dict, machine: dict, load: tuple[float, float, float], model_dir: Path) -> str:
    lines = [
        "# Query embedding: torch against onnxruntime",
        "",
        f"`python -m bench.embed_speed` on {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB "
        f"({machine['date']}); load average at the start {load[0]:.2f}. The machine is shared: wall times move with "
        "the other sessions' load, CPU ms (the process's CPU time per query, all its threads) much less; compare "
        "rows of one run.",
        f"Model: {model_dir.name}; {result['rows'][0]['queries']} questions of tests/data/real_dev.jsonl, one "
        "`encode_queries([q])` call each (as the action server embeds a message), after a warm-up.",
        "",
        "| backend | threads | CPU ms | wall mean ms | wall p50 ms | wall p95 ms | RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['backend']} | {r['threads']} | {r['cpu_ms']} | {r['mean_ms']} | {r['p50_ms']} | {r['p95_ms']} | "
              f"{r['rss_mb']} |" for r in result["rows"]]
    lines += ["", "Vectors against torch's (same questions):", "", "| backend | lowest cosine | mean cosine |",
              "|---|---|---|"]
    lines += [f"| {b} | {a['min_cosine']} | {a['mean_cosine']} |" for b, a in result["agreement"].items()]
    lines += ["", "Serving uses `onnx` (bot/search/onnx_embedder.py, exported at set-up by bot/indexing/e5_onnx.py); "
              "`int8` is measured as a candidate only and not served (e5_onnx.py says why)."]
    graded = [r for r in result["rows"] if "real_dev" in r]
    if graded:
        lines += ["", "tests/data/real_dev.jsonl in process, each backend with its own index of knowledge/ "
                  "(`--real`):", "",
                  "| backend | hybrid top-1 | hybrid top-3 | e5 top-1 | e5 top-3 | right | asked back | declined "
                  "| wrong |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in graded:
            g, ret = r["real_dev"], r["real_dev"]["retrieval"]
            lines.append(f"| {r['backend']} | {ret['hybrid']['top1']} | {ret['hybrid']['top3']} | "
                         f"{ret['e5']['top1']} | {ret['e5']['top3']} | {g['right']} | {g['asked back']} | "
                         f"{g['declined']} | {g['wrong']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Settings.from_env().model_dir)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--backends", default="torch,onnx,int8")
    ap.add_argument("--real", action="store_true", help="also grade real_dev with each backend's own index")
    ap.add_argument("--int8-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--one", nargs=2, metavar=("BACKEND", "THREADS"), help=argparse.SUPPRESS)
    ap.add_argument("--vectors", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.model, args.vectors, args.int8_file, args.real)))
        return 0
    from bench.machine import machine

    backends = args.backends.split(",")
    load = os.getloadavg()
    result = measure(args.model, backends, [int(t) for t in args.threads.split(",")], args.real)
    info = machine()
    (OUT / "embed_speed.json").write_text(json.dumps({"machine": info, "load_average": load, **result}, indent=1),
                                          encoding="utf-8")
    (OUT / "embed_speed.md").write_text(report(result, info, load, args.model), encoding="utf-8")
    print(report(result, info, load, args.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
