"""The search service a serving process uses, wired to this checkout's settings and the store's live release.

Composition lives here rather than in bot/search, which only reads index folders: following the store's releases
(bot/indexing/follow.py) is indexing's job.
"""

from __future__ import annotations

from bot.core.settings import Settings
from bot.indexing.follow import ReleaseFollower
from bot.search.decide import Thresholds
from bot.search.embcache import EmbeddingCache
from bot.search.onnx_embedder import e5_embedder
from bot.search.query_cache import with_query_cache
from bot.search.service import SearchService
from bot.search.shared_vectors import shared_vectors_from_env
from bot.store.knowledge import KnowledgeStore


def search_service(settings: Settings) -> SearchService:
    """The service for these settings: the fine-tuned model (its ONNX export when set-up made one:
    bot/search/onnx_embedder.py) behind the query cache (bot/search/query_cache.py), the calibrated bars, following
    the live release."""
    embedder = e5_embedder(settings.model_dir)
    fingerprint = embedder.fingerprint()
    follower = ReleaseFollower(KnowledgeStore.open(settings.store_url), settings.index_dir, embedder, fingerprint,
                               EmbeddingCache(settings.cache_dir / "embeddings.sqlite", fingerprint))
    # Residents' questions through the query cache (and Redis, shared by every action server, when REDIS_HOST is set);
    # publishing (the follower) embeds entries' texts uncached.
    queries = with_query_cache(embedder, shared=shared_vectors_from_env(fingerprint))
    return SearchService(settings.index_dir, queries, Thresholds.load(settings.calibration_file), follower)
