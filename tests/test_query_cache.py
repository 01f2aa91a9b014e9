"""The query cache: the same vectors as the embedder, each text embedded once while it stays, bounded."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from bot.search.query_cache import CachedQueryEmbedder, with_query_cache


class CountingEmbedder:
    """Deterministic unit vectors from a text's hash; counts what it was asked to embed."""

    name = "counting"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vec(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
        vec = np.random.default_rng(seed).standard_normal(8).astype(np.float32)
        return vec / np.linalg.norm(vec)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.embedded.extend(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, 8), np.float32)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode_queries(texts)

    def fingerprint(self) -> str:
        return "fp"


def test_same_vectors_and_each_text_embedded_once() -> None:
    inner = CountingEmbedder()
    cached = CachedQueryEmbedder(inner, size=10)
    first = cached.encode_queries(["quen mat khau vneid", "cap lai the bhyt"])
    again = cached.encode_queries(["cap lai the bhyt", "moi", "quen mat khau vneid", "moi"])
    assert np.array_equal(first, CountingEmbedder().encode_queries(["quen mat khau vneid", "cap lai the bhyt"]))
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    assert np.array_equal(again[1], again[3])
    assert inner.embedded == ["quen mat khau vneid", "cap lai the bhyt", "moi"]  # "moi" once, in one batch
    assert (cached.hits, cached.misses) == (2, 3)
    assert again.dtype == np.float32 and again.shape == (4, 8)


def test_bounded_least_recently_used_goes_first() -> None:
    inner = CountingEmbedder()
    cached = CachedQueryEmbedder(inner, size=2)
    cached.encode_queries(["a"])
    cached.encode_queries(["b"])
    cached.encode_queries(["a"])  # a is now the most recent
    cached.encode_queries(["c"])  # b goes
    inner.embedded.clear()
    cached.encode_queries(["a", "c", "b"])
    assert inner.embedded == ["b"]


def test_cached_vectors_cannot_be_changed_by_a_caller() -> None:
    cached = CachedQueryEmbedder(CountingEmbedder(), size=4)
    out = cached.encode_queries(["a"])
    out[0][:] = 0  # the stacked result is the caller's own copy
    assert np.linalg.norm(cached.encode_queries(["a"])[0]) == pytest.approx(1.0)


def test_passages_and_fingerprint_go_through_and_zero_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = CountingEmbedder()
    cached = with_query_cache(inner, size=3)
    cached.encode_passages(["p"])
    cached.encode_passages(["p"])
    assert inner.embedded == ["p", "p"] and cached.fingerprint() == "fp" and cached.name == "counting"
    monkeypatch.setenv("BOT_QUERY_CACHE", "0")
    assert with_query_cache(inner) is inner
    monkeypatch.setenv("BOT_QUERY_CACHE", "5")
    assert with_query_cache(inner).size == 5


def test_shared_tier_on_a_real_redis_embeds_each_text_once_for_every_process() -> None:
    """Two action servers (two caches) sharing the machine's Redis: the second reads what the first embedded; keys
    hold no text; a Redis that is away only means embedding."""
    import secrets

    from bot.search.shared_vectors import shared_vectors_from_env

    env = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "BOT_VECTORS_REDIS_DB": "14",
           "BOT_REDIS_PREFIX": "test" + secrets.token_hex(4)}
    shared = shared_vectors_from_env("model-fp", env)
    assert shared is not None
    first, second = CountingEmbedder(), CountingEmbedder()
    one = CachedQueryEmbedder(first, size=10, shared=shared)
    two = CachedQueryEmbedder(second, size=10, shared=shared_vectors_from_env("model-fp", env))
    try:
        a = one.encode_queries(["quen mat khau vneid", "cap lai the bhyt"])
        b = two.encode_queries(["cap lai the bhyt", "quen mat khau vneid", "moi"])
        assert second.embedded == ["moi"] and two.shared_hits == 2
        assert np.array_equal(b[0], a[1]) and np.array_equal(b[1], a[0])
        keys = shared.client.keys(env["BOT_REDIS_PREFIX"] + ":*")
        assert len(keys) == 3 and not any(b"vneid" in k or b"bhyt" in k for k in keys)
        other_model = CachedQueryEmbedder(CountingEmbedder(), size=10, shared=shared_vectors_from_env("other", env))
        other_model.encode_queries(["moi"])
        assert other_model.shared_hits == 0  # another model's vectors are never mixed in
    finally:
        for key in shared.client.keys(env["BOT_REDIS_PREFIX"] + ":*"):
            shared.client.delete(key)
    away = shared_vectors_from_env("model-fp", {**env, "REDIS_PORT": "1"})
    lonely = CachedQueryEmbedder(CountingEmbedder(), size=10, shared=away)
    assert lonely.encode_queries(["moi"]).shape == (1, 8)
