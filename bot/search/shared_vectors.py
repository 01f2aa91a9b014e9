"""Query vectors shared through Redis by every action server of the scaled set-up (REDIS_HOST set).

A vector one action server embedded (26 ms of CPU) is 1.5 KB another reads back in a fraction of a millisecond, so a
question asked anywhere is embedded once for the whole deployment while it stays in Redis. Keys hold the model's
fingerprint and a hash of the text, never the text itself (a resident's words stay out of Redis); they expire after
TTL_S. Redis away or slow: the vector is embedded as without it (never an error to the resident).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from bot.core.settings import redis_address

log = logging.getLogger(__name__)
DB_ENV = "BOT_VECTORS_REDIS_DB"
DEFAULT_DB = 4  # 1 Rasa's lock store, 2 limits, 3 Zalo de-duplication
TTL_S = 7 * 24 * 3600


class SharedVectors:
    """get_many/put_many of float32 vectors in Redis, keyed by model and text hash."""

    def __init__(self, client: Any, model: str, prefix: str = "") -> None:
        self.client = client
        self.namespace = f"{prefix}bot:qvec:{hashlib.sha256(model.encode()).hexdigest()[:16]}:"

    def _key(self, text: str) -> str:
        return self.namespace + hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, texts: list[str]) -> dict[str, np.ndarray]:
        try:
            raw = self.client.mget([self._key(t) for t in texts])
        except Exception as err:  # redis.RedisError, OSError: embed instead
            log.warning("shared query vectors unavailable (%s)", type(err).__name__)
            return {}
        return {t: np.frombuffer(blob, dtype=np.float32) for t, blob in zip(texts, raw, strict=True) if blob}

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            for text, vec in vectors.items():
                pipe.set(self._key(text), np.asarray(vec, dtype=np.float32).tobytes(), ex=TTL_S)
            pipe.execute()
        except Exception as err:
            log.warning("could not share query vectors (%s)", type(err).__name__)


def shared_vectors_from_env(model: str, env: Mapping[str, str] | None = None) -> SharedVectors | None:
    """The Redis tier when REDIS_HOST is set (database BOT_VECTORS_REDIS_DB, default 4), else None."""
    where = redis_address(os.environ if env is None else env, DB_ENV, DEFAULT_DB)
    if where is None:
        return None
    import redis

    client = redis.Redis(host=where.host, port=where.port, db=where.db, password=where.password,
                         socket_timeout=0.3, socket_connect_timeout=0.3)
    return SharedVectors(client, model, where.prefix)
