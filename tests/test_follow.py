"""Several servers, one shared store: a release published on one machine reaches another machine's index."""

from __future__ import annotations

from dataclasses import replace

from bot.core.settings import Settings
from bot.indexing import follow as follow_mod
from bot.indexing.follow import ReleaseFollower
from bot.indexing.publish import Publisher
from bot.search import service as service_mod
from bot.search.decide import Thresholds
from bot.search.index import current_path
from bot.search.service import SearchService
from bot.store.knowledge import KnowledgeStore


def test_second_server_builds_and_serves_the_live_release(tmp_path, store_url, small_entries, fake_embedder,
                                                         monkeypatch):
    monkeypatch.setattr(service_mod, "CHECK_EVERY_S", 0.0)
    monkeypatch.setattr(follow_mod, "FOLLOW_EVERY_S", 1e9)  # the test drives the follower itself
    store = KnowledgeStore.open(store_url)
    store.import_entries([replace(e, related=()) for e in small_entries], "seed")
    here = replace(Settings.from_env(), index_dir=tmp_path / "a", cache_dir=tmp_path / "cache", store_url=store_url)
    publisher = Publisher(store, here, fake_embedder, "fake")
    first = publisher.publish_and_wait("an", progress_bar=False)
    assert first.status == "live"

    other_dir = tmp_path / "b"
    follower = ReleaseFollower(store, other_dir, fake_embedder, "fake")
    service = SearchService(other_dir, fake_embedder, Thresholds(), follower)
    assert follower.check() and current_path(other_dir).name == first.index_name
    assert "hoa-don-tra-cuu" in service.searcher().by_id
    assert not follower.check()  # nothing new

    stored = store.get("hoa-don-tra-cuu")
    store.retire("hoa-don-tra-cuu", "an", stored.revision)
    second = publisher.publish_and_wait("an", progress_bar=False)
    assert follower.check() and current_path(other_dir).name == second.index_name
    service.searcher()
    service.wait_for_reload()
    assert "hoa-don-tra-cuu" not in service.searcher().by_id

    store.rollback_to_release(first.id, "an")  # back to the first release: the old folder is reused
    third = publisher.publish_and_wait("an", progress_bar=False)
    assert third.index_name == first.index_name
    assert follower.check() and current_path(other_dir).name == first.index_name
