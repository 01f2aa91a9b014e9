"""Publishing under load: how long a publish takes (cold: every vector computed; warm: one entry
edited, the rest from the embedding cache), how soon the running bot serves the new answer, and what
residents' latency does while the index builds on the same two cores."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import requests

from bot.core.settings import ROOT, Settings
from bot.indexing.publish import Publisher
from bot.knowledge.loader import load_entries
from bot.search.embedder import E5Embedder
from bot.store.knowledge import KnowledgeStore
from tools.launch import Bot

QUESTIONS = ["quen mat khau vneid", "tra cứu hóa đơn điện tử", "nop ho so tren dich vu cong", "thẻ bhyt trên vneid"]
MARKER = "Ghi chú đo thời gian xuất bản."


class Load:
    """Four residents asking in a loop; latencies recorded per window."""

    def __init__(self, url: str, users: int = 4) -> None:
        self.url, self.users = url, users
        self.samples: list[tuple[float, float, bool]] = []  # (start time, seconds, ok)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(users)]

    def _run(self, n: int) -> None:
        i = 0
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                turn = {"sender": f"bench-{n}", "message": QUESTIONS[(n + i) % 4]}
                r = requests.post(self.url, json=turn, timeout=60)
                ok = r.status_code == 200 and any(m.get("text") for m in r.json())
            except requests.RequestException:
                ok = False
            self.samples.append((started, time.perf_counter() - started, ok))
            i += 1

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def window(self, start: float, end: float) -> dict:
        lat = sorted(s for t, s, _ in self.samples if start <= t < end)
        failed = sum(1 for t, _, ok in self.samples if start <= t < end and not ok)
        if not lat:
            return {"messages": 0, "failed": failed}
        return {"messages": len(lat), "failed": failed, "p50_ms": round(statistics.median(lat) * 1000),
                "p95_ms": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))] * 1000)}


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = Settings.from_env()
        settings = replace(base, index_dir=root / "index", cache_dir=root / "cache",
                           store_url=f"sqlite:///{root / 's.db'}")
        store = KnowledgeStore.open(settings.store_url)
        store.import_entries(load_entries(ROOT / "knowledge"), "seed", action="seed")
        publisher = Publisher(store, settings, E5Embedder(base.model_dir))
        started = time.perf_counter()
        assert publisher.publish_and_wait("bench", progress_bar=False).status == "live"
        cold_s = time.perf_counter() - started
        bot = Bot(root, env={"BOT_INDEX_DIR": str(settings.index_dir), "BOT_STORE_URL": settings.store_url}).start()
        try:
            bot.say("quen mat khau vneid", "warm")
            with Load(f"{bot.url}/webhooks/rest/webhook") as load:
                time.sleep(10)
                quiet_end = time.perf_counter()
                # cold rebuild under load, as an admin would start it: the CLI in its own process, with
                # a fresh embedding cache so that every vector is computed again
                entry = store.get("vneid-quen-mat-khau")
                store.edit({**entry.entry.to_dict(), "note": MARKER}, "bench", entry.revision)
                pub_start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "bot.admin", "publish"], check=True, capture_output=True,
                               env={**os.environ, "BOT_STORE_URL": settings.store_url,
                                    "BOT_MODEL_DIR": str(base.model_dir),
                                    "BOT_INDEX_DIR": str(settings.index_dir), "BOT_CACHE_DIR": str(root / "cache2"),
                                    "PYTHONPATH": str(ROOT)})
                build_s = time.perf_counter() - pub_start
                while MARKER not in "\n".join(m.get("text", "") for m in bot.say("quên mật khẩu vneid", "check")):
                    time.sleep(0.1)
                serve_s = time.perf_counter() - pub_start
                during_end = time.perf_counter()
                time.sleep(3)
            # warm publish (one entry changed, the rest cached), no load
            entry = store.get("vneid-quen-mat-khau")
            store.edit({**entry.entry.to_dict(), "note": MARKER + " 2"}, "bench", entry.revision)
            started = time.perf_counter()
            publisher.publish_and_wait("bench", progress_bar=False)
            warm_s = time.perf_counter() - started
            while MARKER + " 2" not in "\n".join(m.get("text", "") for m in bot.say("quên mật khẩu vneid", "check2")):
                time.sleep(0.1)
            warm_serve_s = time.perf_counter() - started
        finally:
            bot.stop()
    return {
        "cold_publish_s": round(cold_s, 1), "warm_publish_s": round(warm_s, 2),
        "warm_publish_to_new_answer_s": round(warm_serve_s, 2),
        "cold_rebuild_under_load_s": round(build_s, 1), "cold_rebuild_to_new_answer_s": round(serve_s, 1),
        "latency_before": load.window(0, quiet_end), "latency_during_rebuild": load.window(pub_start, during_end),
        "failed": sum(1 for _, _, ok in load.samples if not ok),
    }


def markdown(r: dict) -> list[str]:
    b, d = r["latency_before"], r["latency_during_rebuild"]
    return [
        "## Publishing while residents ask (4 concurrent users over REST)",
        "",
        f"- Publish of the whole base with no cached vectors: {r['cold_publish_s']} s; after editing one entry "
        f"(the rest from the embedding cache): {r['warm_publish_s']} s, and the running bot gave the new answer "
        f"{r['warm_publish_to_new_answer_s']} s after publishing began.",
        f"- A full rebuild under load (`python -m bot.admin publish` in its own process, no cached vectors) took "
        f"{r['cold_rebuild_under_load_s']} s; the new answer was served after "
        f"{r['cold_rebuild_to_new_answer_s']} s. Failed requests: {r['failed']}.",
        f"- Latency before: p50 {b.get('p50_ms')} ms, p95 {b.get('p95_ms')} ms ({b['messages']} messages); "
        f"during the full rebuild: p50 {d.get('p50_ms')} ms, p95 {d.get('p95_ms')} ms ({d['messages']} messages).",
        "",
    ]


if __name__ == "__main__":
    import json

    result = run()
    print(json.dumps(result, indent=1))
    print("\n".join(markdown(result)))
