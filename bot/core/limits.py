"""Counters for limits on the public side (helper codes, tickets, feedback) and on the admin login.

A fixed window per key: the first hit starts the window, later hits in it add one, the key is forgotten when the
window ends. Callers count an attempt *before* acting on it (`hit`), and give it back (`undo`) when it should not
count (a right code, a login that succeeded, a request refused unevaluated): so N concurrent attempts can never
all pass a limit of L < N, whatever their timing.

With several servers (README, "Scaling out": REDIS_HOST, REDIS_PORT) the counters live in Redis, database
BOT_LIMITS_REDIS_DB (default 2; Rasa's lock store uses 1), where INCR and the expiry are one Lua script, so
atomic across processes. Without Redis they live in this process. When a configured Redis fails, this process
counts on its own for a while (limits still hold per process) rather than letting everything through.

Keys are hashed: sender ids and addresses are not written to Redis in the clear.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.settings import redis_address

log = logging.getLogger(__name__)

# The message metadata key under which a door that knows the client's address (and has dropped whatever the
# client itself sent as metadata) passes it to the actions. Absent: limits are per sender only.
CLIENT_ADDRESS = "client_address"
REDIS_DB = 2
RETRY_REDIS_AFTER_S = 30.0  # after a Redis error, count in-process this long before trying Redis again


@dataclass(frozen=True)
class Rule:
    """At most `limit` hits per `window_s` seconds for one key of this rule."""

    name: str
    limit: int
    window_s: float


@dataclass(frozen=True)
class Hit:
    """The count after one hit, and how long until the window ends."""

    count: int
    limit: int
    retry_after_s: float

    @property
    def over(self) -> bool:
        return self.count > self.limit

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_s / 60))


class Counters(Protocol):
    def incr(self, key: str, window_s: float) -> tuple[int, float]: ...  # (count, seconds left in the window)
    def decr(self, key: str) -> None: ...
    def get(self, key: str) -> tuple[int, float]: ...


class MemoryCounters:
    """Counters of this process (one lock; expired keys are swept when there are many)."""

    SWEEP_AT = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._counts: dict[str, list[float]] = {}  # key -> [count, window end]
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> list[float] | None:
        slot = self._counts.get(key)
        if slot is not None and slot[1] <= now:
            del self._counts[key]
            return None
        return slot

    def incr(self, key: str, window_s: float) -> tuple[int, float]:
        now = self.clock()
        with self._lock:
            if len(self._counts) >= self.SWEEP_AT:  # a flood of new senders must not grow memory forever
                for k in [k for k, (_, end) in self._counts.items() if end <= now]:
                    del self._counts[k]
            slot = self._live(key, now)
            if slot is None:
                slot = self._counts[key] = [0, now + window_s]
            slot[0] += 1
            return int(slot[0]), slot[1] - now

    def decr(self, key: str) -> None:
        with self._lock:
            slot = self._live(key, self.clock())
            if slot is not None and slot[0] > 0:
                slot[0] -= 1

    def get(self, key: str) -> tuple[int, float]:
        now = self.clock()
        with self._lock:
            slot = self._live(key, now)
            return (0, 0.0) if slot is None else (int(slot[0]), slot[1] - now)


# One round trip, atomic: the expiry is set with the first hit, so a key can never be left without one.
_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""
_DECR = """
if redis.call('GET', KEYS[1]) and tonumber(redis.call('GET', KEYS[1])) > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisCounters:
    """Counters in Redis, shared by every process; in-process counters while Redis is failing."""

    def __init__(self, client: Any, fallback: MemoryCounters | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.fallback = fallback or MemoryCounters()
        self.clock = clock
        self._incr = client.register_script(_INCR)
        self._decr = client.register_script(_DECR)
        self._down_until = 0.0

    @classmethod
    def connect(cls, host: str, port: int, db: int = REDIS_DB, password: str | None = None) -> RedisCounters:
        import redis

        # Short timeouts: a limit check is on the resident's path; a dead Redis costs one short wait per 30 s.
        return cls(redis.Redis(host=host, port=port, db=db, password=password or None, socket_timeout=0.3,
                               socket_connect_timeout=0.3))

    def _call(self, redis_way: Callable[[], Any], local_way: Callable[[], Any]) -> Any:
        if self.clock() >= self._down_until:
            try:
                return redis_way()
            except Exception as err:  # redis.RedisError, OSError: never a 500 because a counter is away
                log.warning("limit counters: Redis unavailable (%s), counting in this process for %.0f s",
                            err.__class__.__name__, RETRY_REDIS_AFTER_S)
                self._down_until = self.clock() + RETRY_REDIS_AFTER_S
        return local_way()

    def incr(self, key: str, window_s: float) -> tuple[int, float]:
        def redis_way() -> tuple[int, float]:
            count, ttl_ms = self._incr(keys=[key], args=[max(1, int(window_s * 1000))])
            return int(count), int(ttl_ms) / 1000.0

        return self._call(redis_way, lambda: self.fallback.incr(key, window_s))

    def decr(self, key: str) -> None:
        self._call(lambda: self._decr(keys=[key]), lambda: self.fallback.decr(key))

    def get(self, key: str) -> tuple[int, float]:
        def redis_way() -> tuple[int, float]:
            pipe = self.client.pipeline()
            pipe.get(key)
            pipe.pttl(key)
            value, ttl_ms = pipe.execute()
            return (int(value), max(0, int(ttl_ms)) / 1000.0) if value is not None else (0, 0.0)

        return self._call(redis_way, lambda: self.fallback.get(key))


class Limiter:
    """Rules applied to keys made of parts (a sender id, an address, an account name)."""

    def __init__(self, counters: Counters, prefix: str = "bot:limits:") -> None:
        self.counters = counters
        self.prefix = prefix

    def key(self, rule: Rule, *parts: str) -> str:
        digest = hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:32]
        return f"{self.prefix}{rule.name}:{digest}"

    def hit(self, rule: Rule, *parts: str) -> Hit:
        """Count one attempt, before acting on it; `over` says it must not go ahead."""
        count, left = self.counters.incr(self.key(rule, *parts), rule.window_s)
        return Hit(count, rule.limit, left)

    def undo(self, rule: Rule, *parts: str) -> None:
        """Give back one hit (the attempt succeeded, or was refused without being evaluated)."""
        self.counters.decr(self.key(rule, *parts))

    def peek(self, rule: Rule, *parts: str) -> Hit:
        """The count so far, without counting."""
        count, left = self.counters.get(self.key(rule, *parts))
        return Hit(count, rule.limit, left)


def limiter_from_env(env: Mapping[str, str] | None = None) -> Limiter:
    """Redis when REDIS_HOST is set (the scaled set-up; keys after BOT_REDIS_PREFIX), this process's memory
    otherwise."""
    where = redis_address(os.environ if env is None else env, "BOT_LIMITS_REDIS_DB", REDIS_DB)
    if where is None:
        return Limiter(MemoryCounters())
    return Limiter(RedisCounters.connect(where.host, where.port, where.db, where.password),
                   prefix=f"{where.prefix}bot:limits:")


_shared: Limiter | None = None
_shared_lock = threading.Lock()


def shared() -> Limiter:
    """The process's limiter, built from the environment on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = limiter_from_env()
        return _shared


def client_address(metadata: Any) -> str | None:
    """The client's address a door put in the message metadata, if any."""
    if isinstance(metadata, Mapping):
        value = metadata.get(CLIENT_ADDRESS)
        if isinstance(value, str) and 0 < len(value.strip()) <= 64:
            return value.strip()
    return None
