"""`python -m bench.places`: what bot.places costs — import, building the tables, memory, and resolve() times.

The texts are every 7th current commune label (as the directory writes them) and four typical answers to the
commune question, 50 times each. Times on a shared machine have scheduler ticks in the tail: read the median.
The figures in docs/places.md come from this script.
"""

from __future__ import annotations

import gc
import resource
import statistics
import time
from pathlib import Path

ANSWERS = ("tôi ở xã tân lập huyện đan phượng hà nội ạ", "p15, tan binh, hcm", "hn", "không biết")


def resident_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    gc.collect()
    before, start = resident_mb(), time.perf_counter()
    import bot.places

    imported, import_mb = time.perf_counter() - start, resident_mb() - before
    gc.collect()
    before, start = resident_mb(), time.perf_counter()
    table = bot.places.gazetteer()
    built = time.perf_counter() - start
    gc.collect()
    build_mb = resident_mb() - before
    texts = [c.label for c in table.communes.values()][::7] + list(ANSWERS) * 50
    took = []
    for text in texts:
        start = time.perf_counter()
        bot.places.resolve(text, table)
        took.append(time.perf_counter() - start)
    took.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def ms(q: float) -> str:
        return f"{took[min(len(took) - 1, int(len(took) * q))] * 1000:.3f}"

    print(f"vietnamadminunits {table.version}: {len(table.provinces)} provinces, {len(table.communes)} communes")
    print(f"import bot.places {imported * 1000:.0f} ms (+{import_mb:.1f} MB)")
    print(f"build tables {built:.2f} s (+{build_mb:.1f} MB resident, peak {peak:.0f} MB)")
    print(f"resolve n={len(took)}: median {statistics.median(took) * 1000:.3f} ms, p95 {ms(0.95)}, p99 {ms(0.99)},"
          f" max {took[-1] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
