"""What the bot itself keeps in a shared Redis (request limits, Zalo de-duplication) honours REDIS_PASSWORD and puts
BOT_REDIS_PREFIX before every key, on a real redis-server of the test's own that requires a password
(tools/redis_server.py; without redis-server this fails, it never skips). Rasa's lock store:
tests/test_lock_store.py."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.core.limits import RedisCounters, Rule, limiter_from_env
from bot.core.settings import redis_key_prefix
from bot.rasa_side.channels.zalo_seen import SeenEvents
from tools.redis_server import RedisServer

PASSWORD = "pw-for-redis-sharing-tests"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[RedisServer]:
    running = RedisServer(tmp_path / "redis", password=PASSWORD)
    running.start()
    yield running
    running.stop(signal.SIGKILL)


def env(server: RedisServer, **more: str) -> dict[str, str]:
    return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(server.port), "REDIS_PASSWORD": PASSWORD, **more}


def keys(server: RedisServer, db: int) -> list[str]:
    client = redis.Redis(host="127.0.0.1", port=server.port, db=db, password=PASSWORD)
    try:
        return sorted(k.decode() for k in client.keys("*"))
    finally:
        client.close()


def test_limits_count_in_redis_with_the_password_under_the_prefix(server):
    limiter = limiter_from_env(env(server, BOT_REDIS_PREFIX="deploymentA"))
    assert isinstance(limiter.counters, RedisCounters)
    rule = Rule("codes", 2, 60)
    assert [limiter.hit(rule, "web-1").over for _ in range(3)] == [False, False, True]
    assert limiter.counters._down_until == 0.0  # counted in Redis, never fell back to this process
    stored = keys(server, 2)
    assert len(stored) == 1 and stored[0].startswith("deploymentA:bot:limits:codes:"), stored


def test_without_a_prefix_the_keys_stay_as_they_were(server):
    limiter = limiter_from_env(env(server))
    limiter.hit(Rule("codes", 2, 60), "web-1")
    assert [k.split(":")[:3] for k in keys(server, 2)] == [["bot", "limits", "codes"]]


def test_a_wrong_password_is_sent_and_refused(server):
    limiter = limiter_from_env({**env(server), "REDIS_PASSWORD": "wrong"})
    limiter.hit(Rule("codes", 2, 60), "web-1")
    assert limiter.counters._down_until > 0  # Redis refused it: counted in this process meanwhile
    assert keys(server, 2) == []


async def test_zalo_deliveries_are_claimed_under_the_prefix(server):
    first = SeenEvents.from_env(env(server, BOT_REDIS_PREFIX="deploymentA"), "app")
    second = SeenEvents.from_env(env(server, BOT_REDIS_PREFIX="deploymentA"), "app")
    other = SeenEvents.from_env(env(server, BOT_REDIS_PREFIX="deploymentB"), "app")
    try:
        assert await first.seen("delivery-1") is False
        assert await second.seen("delivery-1") is True  # the same deployment, another server
        assert await other.seen("delivery-1") is False  # another deployment on the same Redis keeps its own
        stored = keys(server, 3)
        assert len(stored) == 2 and {k.split(":")[0] for k in stored} == {"deploymentA", "deploymentB"}, stored
    finally:
        for seen in (first, second, other):
            await seen.close()


@pytest.mark.parametrize("bad", ["with space", "a:b", "dé", "x-y"])
def test_a_prefix_rasas_lock_store_would_ignore_is_refused(bad):
    with pytest.raises(ValueError):
        redis_key_prefix({"BOT_REDIS_PREFIX": bad})
    assert redis_key_prefix({"BOT_REDIS_PREFIX": " ok2 "}) == "ok2:" and redis_key_prefix({}) == ""
