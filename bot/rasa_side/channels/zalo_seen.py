"""Which Zalo deliveries were already accepted: shared through Redis when one is configured, in this process otherwise.

Zalo retries an event it thinks failed, and a captured signed body could be replayed inside the freshness window
(zalo_events.MAX_EVENT_AGE_S). With several Rasa servers, or across a restart, only a shared memory catches both:
with REDIS_HOST set (the scaled set-up, endpoints.scaled.yml) each delivery key is claimed with one atomic
`SET key 1 NX EX ttl`, whichever server the retry reaches. Keys are hashed: no user id reaches Redis. If Redis fails,
this process's own memory still answers (and Redis is tried again after a pause), so residents are still answered.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.core.settings import redis_address
from bot.messengers.zalo_events import Deduper

log = logging.getLogger(__name__)
KEY_PREFIX = "zalo:seen:"
REDIS_DB = 3  # Rasa's lock store uses 1, the request limits 2
RETRY_REDIS_AFTER_S = 30.0
REDIS_TIMEOUT_S = 0.3  # on the webhook's path, which must answer Zalo within about 2 s


def redis_key(app_id: str, dedupe_key: str, prefix: str = "") -> str:
    """The Redis key for one delivery: a hash, so Zalo user ids (in follow keys) are not written in the clear;
    `prefix` is the deployment's (BOT_REDIS_PREFIX)."""
    return prefix + KEY_PREFIX + hashlib.sha256(f"{app_id}\x00{dedupe_key}".encode()).hexdigest()[:40]


class SeenEvents:
    """`await seen(key)`: True when the delivery was accepted before (here, or by any server sharing Redis)."""

    def __init__(self, redis: Any = None, app_id: str = "", ttl_s: float = 6 * 3600.0,
                 clock: Callable[[], float] = time.monotonic, key_prefix: str = "") -> None:
        self.redis = redis  # a redis.asyncio.Redis, or None
        self.app_id, self.key_prefix = app_id, key_prefix
        self.ttl_s = ttl_s
        self.local = Deduper(ttl_s=ttl_s, clock=clock)
        self.clock = clock
        self._redis_down_until = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], app_id: str) -> SeenEvents:
        """Redis at REDIS_HOST:REDIS_PORT (database ZALO_REDIS_DB, REDIS_PASSWORD and BOT_REDIS_PREFIX if set) when
        REDIS_HOST is set."""
        try:
            where = redis_address(env, "ZALO_REDIS_DB", REDIS_DB)
        except ValueError:
            log.error("REDIS_PORT / ZALO_REDIS_DB are not numbers or BOT_REDIS_PREFIX is not letters and digits: "
                      "Zalo de-duplication stays in this process")
            return cls(None, app_id)
        if where is None:
            return cls(None, app_id)
        import redis.asyncio  # shipped with Rasa; only needed when Redis is configured
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        client = redis.asyncio.Redis(host=where.host, port=where.port, db=where.db, password=where.password,
                                     socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S,
                                     retry=Retry(NoBackoff(), 0))  # no retries: the local memory answers instead
        log.info("Zalo de-duplication shared through Redis at %s:%d/%d", where.host, where.port, where.db)
        return cls(client, app_id, key_prefix=where.prefix)

    @property
    def shared(self) -> bool:
        return self.redis is not None

    async def seen(self, dedupe_key: str) -> bool:
        """Claim `dedupe_key`; True when someone claimed it before."""
        if self.local.seen(dedupe_key):
            return True
        if self.redis is None or self.clock() < self._redis_down_until:
            return False
        try:
            claimed = await self.redis.set(redis_key(self.app_id, dedupe_key, self.key_prefix), "1", nx=True,
                                           ex=int(self.ttl_s))
        except Exception as exc:  # redis.RedisError, OSError, timeouts: never refuse a resident for it
            self._redis_down_until = self.clock() + RETRY_REDIS_AFTER_S
            log.error("Redis unreachable for Zalo de-duplication (%s): this process's memory only, for %.0f s",
                      type(exc).__name__, RETRY_REDIS_AFTER_S)
            return False
        return not claimed

    async def close(self) -> None:
        if self.redis is not None:
            with contextlib.suppress(Exception):  # closing at shutdown: nothing left to do about it
                await getattr(self.redis, "aclose", self.redis.close)()  # aclose from redis-py 5
