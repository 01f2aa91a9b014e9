"""Publishing while residents are asking: the running bot switches to the new index without a restart,
no question in flight fails, and a failed build leaves the previous index serving."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from bot.core.settings import ROOT, Settings
from bot.indexing.publish import Publisher
from bot.knowledge.loader import load_entries
from bot.search.embedder import E5Embedder
from bot.search.index import current_path
from bot.store.knowledge import KnowledgeStore
from tools.launch import Bot

pytestmark = [pytest.mark.e2e, pytest.mark.model]
QUESTIONS = ["quen mat khau vneid", "tra cứu hóa đơn điện tử", "nop ho so tren dich vu cong", "xin chào",
             "thẻ bhyt trên vneid", "gia vang hom nay"]
MARKER = "Bản cập nhật kiểm thử xuất bản."


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[tuple[Bot, Publisher, KnowledgeStore]]:
    root = tmp_path_factory.mktemp("publish")
    settings = replace(Settings.from_env(), index_dir=root / "index", store_url=f"sqlite:///{root / 'store.db'}")
    store = KnowledgeStore.open(settings.store_url)
    store.import_entries(load_entries(ROOT / "knowledge"), "seed", action="seed")
    publisher = Publisher(store, settings, E5Embedder(settings.model_dir))
    assert publisher.publish_and_wait("seed", progress_bar=False).status == "live"
    bot = Bot(root, env={"BOT_INDEX_DIR": str(settings.index_dir), "BOT_STORE_URL": settings.store_url})
    try:
        yield bot.start(), publisher, store
    finally:
        bot.stop()


def ask(bot: Bot, text: str, sender: str) -> str:
    return "\n".join(m.get("text", "") for m in bot.say(text, sender))


def test_publish_under_a_stream_of_questions_fails_none(world):
    bot, publisher, store = world
    stop = threading.Event()
    failures: list[str] = []
    latencies: list[float] = []

    def resident(n: int) -> None:
        i = 0
        while not stop.is_set():
            text = QUESTIONS[(n + i) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                r = requests.post(f"{bot.url}/webhooks/rest/webhook", json={"sender": f"load-{n}", "message": text},
                                  timeout=30)
                body = r.json()
                if r.status_code != 200 or not body or not any(m.get("text") for m in body):
                    failures.append(f"{text}: {r.status_code} {body!r:.200}")
                elif any(m.get("text", "").startswith("Xin lỗi, hệ thống tra cứu đang bận") for m in body):
                    failures.append(f"{text}: busy reply")
            except Exception as err:  # a dropped connection is a failure too
                failures.append(f"{text}: {err!r}")
            latencies.append(time.perf_counter() - started)
            i += 1

    workers = [threading.Thread(target=resident, args=(n,)) for n in range(4)]
    for w in workers:
        w.start()
    try:
        time.sleep(3)
        before = len(latencies)
        entry = store.get("vneid-quen-mat-khau")
        store.edit({**entry.entry.to_dict(), "note": MARKER}, "kiem-thu", entry.revision)
        published_at = time.perf_counter()
        release = publisher.publish("kiem-thu")
        assert publisher.wait(120).state == "live", publisher.progress.message
        deadline = time.monotonic() + 30
        while MARKER not in ask(bot, "quên mật khẩu vneid", "check") and time.monotonic() < deadline:
            time.sleep(0.2)
        switched = time.perf_counter() - published_at
        time.sleep(3)
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert not failures, failures[:5]
    assert MARKER in ask(bot, "quên mật khẩu vneid", "check"), "the bot never switched to the new index"
    assert store.release(release.id).status == "live"
    print(f"\n{len(latencies)} questions, {len(latencies) - before} during publish; p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
          f"new answer after {switched:.1f} s")


def test_a_failed_build_leaves_the_previous_index_serving(world, monkeypatch):
    bot, publisher, _store = world
    serving = current_path(publisher.settings.index_dir)
    monkeypatch.setattr("bot.indexing.publish.build_index", lambda *a, **k: (_ for _ in ()).throw(OSError("đĩa đầy")))
    release = publisher.publish_and_wait("kiem-thu", progress_bar=False)
    assert release.status == "failed" and "đĩa đầy" in release.message
    assert current_path(publisher.settings.index_dir) == serving
    assert "Nguồn:" in ask(bot, "tra cứu hóa đơn điện tử", "after-fail")
