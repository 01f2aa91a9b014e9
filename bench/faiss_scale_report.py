"""bench/faiss_scale.md, .json and .png from a bench.faiss_scale run. Pure except `plot` (matplotlib) and `write`.

`python -m bench.faiss_scale_report bench/faiss_scale.json` writes the .md and .png again from the .json (after a
change of the served setting, or of a note: the JSON's optional "notes", a list of sentences, are printed as they
are)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.search.vector_index import APPROXIMATE_FROM, NPROBE


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def _recall(row: dict) -> str:
    return " / ".join(f"{v:.3f}" for v in row["recall"].values())


def table(result: dict) -> list[str]:
    threads = list(result["sizes"][0]["methods"][0]["latency"])
    sets = " / ".join(result["query_sets"])
    head = ["vectors", "index", "setting", f"recall@10 ({sets})",
            *[f"p50 / p95 ms, {t} thread{'s' if t != '1' else ''}" for t in threads],
            "search path p50 / p95 ms (k)", "build s", "load s", "MB on disk", "RSS MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size in result["sizes"]:
        for r in size["methods"]:
            setting = f"{r['knob']} {r['value']}" if r["knob"] else "exact"
            if r["method"] == "ivf":
                setting += f", nlist {r['params']['nlist']}"
            lat = [f"{r['latency'][t]['p50_ms']:.2f} / {r['latency'][t]['p95_ms']:.2f}" for t in threads]
            path = r["search_path"]
            lines.append("| " + " | ".join([
                f"{size['n']:,}", r["method"], setting, _recall(r), *lat,
                f"{path['p50_ms']:.2f} / {path['p95_ms']:.2f} ({path['k']:,})", f"{r['build_s']:.1f}",
                f"{r['load_s']:.2f}", _mb(r["bytes"]), f"{r['rss_mb']:,.0f}",
            ]) + " |")
    return lines


def verdict(result: dict) -> str:
    """Whether the largest size meets the target: under 20 ms per query at recall@10 >= the target."""
    largest = result["sizes"][-1]
    ok = [r for r in largest["methods"] if r["method"] != "flat"
          and min(r["recall"].values()) >= result["target_recall"] and r["latency"]["1"]["p95_ms"] < 20]
    if not ok:
        return (f"At {largest['n']:,} vectors no approximate index reached recall@10 >= {result['target_recall']} "
                "under 20 ms (p95, 1 thread).")
    best = min(ok, key=lambda r: r["latency"]["1"]["p95_ms"])
    return (f"At {largest['n']:,} vectors: {' and '.join(r['method'] for r in ok)} "
            f"{'meets' if len(ok) == 1 else 'meet'} the target (recall@10 >= "
            f"{result['target_recall']} on every query set, p95 under 20 ms with 1 thread); fastest {best['method']} "
            f"({best['knob']} {best['value']}): p50 {best['latency']['1']['p50_ms']:.2f} ms, p95 "
            f"{best['latency']['1']['p95_ms']:.2f} ms, recall {_recall(best)}.")


def product_setting(result: dict) -> str:
    """The setting search serves (bot/search/vector_index.py) as measured in the IVF sweep of each size."""
    nprobe = NPROBE
    parts = []
    for size in result["sizes"]:
        for r in size["methods"]:
            point = next((p for p in r["sweep"] if r["method"] == "ivf" and p["value"] == nprobe), None)
            if point is not None:
                recalls = " / ".join(f"{v:.3f}" for v in point["recall"].values())
                parts.append(f"{size['n']:,}: recall {recalls}, p50 {point['p50_ms']:.2f} ms")
    return (f"Search serves IVF with nprobe {nprobe} from {APPROXIMATE_FROM:,} vectors on "
            f"(bot/search/vector_index.py); in the sweeps: {'; '.join(parts)}." if parts else "")


def markdown(result: dict, chart: bool) -> str:
    m = result["machine"]
    real = (f"{result['real_vectors']:,} real vectors of the built index (model `{result['model']}`) mixed into each "
            f"size, synthetic centres and spreads in their shape; the second query set is the "
            f"{result['query_sets'].get('real_dev', 0)} questions of tests/data/real_dev.jsonl embedded by the same "
            "model" if result["real_vectors"] else "synthetic vectors only (no built index, or `--no-real`)")
    lines = [
        "# Retrieval at a million passages: exact, IVF and HNSW",
        "",
        f"`python -m bench.faiss_scale` (`make bench-faiss`) on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB "
        f"({m['date']}), faiss {result['faiss']}; load average at the start {result['load_average'][0]:.2f} (the "
        "machine is shared: wall times move with other sessions' load).",
        f"{result['dim']}-dim unit vectors, inner product. {result['centres']:,} cluster centres "
        f"({result['shape']}); {real}.",
        f"Each approximate index keeps the smallest setting of the sweep that reaches recall@{result['k']} >= "
        f"{result['target_recall']} against exact search on every query set (the last one tried when none does). "
        f"Latency: one query per call, k={result['k']}, after a warm-up. Search path: what bot/search/hybrid.py "
        f"pays per text: the exact index asked for every vector, an approximate one for {result['capped_k']}, then "
        f"the best cosine per entry. Build with {result['build_threads']} threads (`nice -n 10`); RSS: the process's "
        "growth from building and loading the index (beside the vectors themselves); MB on disk: the written index.",
        "",
        *table(result),
        "",
        verdict(result),
        "",
        product_setting(result),
        "",
    ]
    lines += [*result.get("notes", []), ""] if result.get("notes") else []
    lines += ["Median cosine of a query's nearest vector (how close the neighbours are): " + "; ".join(
        f"{s['n']:,}: " + ", ".join(f"{k} {v}" for k, v in s["median_top1_cosine"].items()) for s in result["sizes"]
    ) + "."]
    if chart:
        lines += ["", "![recall against latency](faiss_scale.png)"]
    lines += ["", "The sweeps (every setting tried) are in faiss_scale.json."]
    return "\n".join(lines) + "\n"


def plot(result: dict, target: Path) -> bool:
    """Recall (lowest over the query sets) against single-thread p50 latency, one panel per size."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    sizes = result["sizes"]
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.5 * len(sizes), 3.8), squeeze=False)
    for ax, size in zip(axes[0], sizes, strict=True):
        for r in size["methods"]:
            xs = [p["p50_ms"] for p in r["sweep"]]
            ys = [min(p["recall"].values()) for p in r["sweep"]]
            ax.plot(xs, ys, marker="o", label=r["method"])
            for p, x, y in zip(r["sweep"], xs, ys, strict=True):
                if p["value"] is not None:
                    ax.annotate(str(p["value"]), (x, y), fontsize=7, textcoords="offset points", xytext=(3, -8))
        ax.axhline(result["target_recall"], color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # the minor labels of a narrow log axis overlap
        ax.set_title(f"{size['n']:,} vectors")
        ax.set_xlabel("p50 ms per query (1 thread)")
        ax.set_ylabel(f"recall@{result['k']} (lowest query set)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return True


def write(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "faiss_scale.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    chart = plot(result, out / "faiss_scale.png")
    (out / "faiss_scale.md").write_text(markdown(result, chart), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    source = Path((argv if argv is not None else sys.argv[1:])[0])
    write(json.loads(source.read_text(encoding="utf-8")), source.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
