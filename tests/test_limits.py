"""The rate-limit counters (bot/core/limits.py): fixed windows, counting before acting, giving back, and the same on the
real Redis at 127.0.0.1:6379 (a missing server fails, not skips), across threads and processes' worth of clients."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis

from bot.core import limits
from bot.core.limits import Hit, Limiter, MemoryCounters, RedisCounters, Rule, client_address, limiter_from_env

RULE = Rule("test", 5, 60)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_client():
    client = redis.Redis(host="127.0.0.1", port=6379, db=limits.REDIS_DB, socket_timeout=2)
    client.ping()  # no server: the test fails here
    yield client
    client.close()


@pytest.fixture
def redis_limiter(redis_client):
    prefix = f"test-limits-{uuid.uuid4().hex}:"
    yield Limiter(RedisCounters(redis_client), prefix=prefix)
    for key in redis_client.scan_iter(prefix + "*"):
        redis_client.delete(key)


def test_a_fixed_window_counts_gives_back_and_forgets():
    clock = Clock()
    limiter = Limiter(MemoryCounters(clock))
    hits = [limiter.hit(RULE, "web-1") for _ in range(6)]
    assert [h.count for h in hits] == [1, 2, 3, 4, 5, 6] and [h.over for h in hits] == [False] * 5 + [True]
    assert hits[-1].retry_after_s == 60 and hits[-1].retry_after_minutes == 1
    assert limiter.hit(RULE, "web-2").count == 1  # another key counts apart
    limiter.undo(RULE, "web-1")
    assert limiter.peek(RULE, "web-1").count == 5
    clock.now += 59
    assert limiter.hit(RULE, "web-1").over and limiter.peek(RULE, "web-1").retry_after_s == pytest.approx(1)
    clock.now += 1
    assert limiter.peek(RULE, "web-1").count == 0 and limiter.hit(RULE, "web-1").count == 1


def test_memory_is_bounded_under_a_flood_of_new_keys():
    clock = Clock()
    counters = MemoryCounters(clock)
    counters.SWEEP_AT = 100
    for n in range(100):
        counters.incr(f"k{n}", 10)
    clock.now += 11
    counters.incr("new", 10)
    assert len(counters._counts) == 1


def test_undo_never_goes_below_zero():
    limiter = Limiter(MemoryCounters())
    limiter.undo(RULE, "nobody")
    limiter.hit(RULE, "a")
    limiter.undo(RULE, "a")
    limiter.undo(RULE, "a")
    assert limiter.peek(RULE, "a").count == 0 and limiter.hit(RULE, "a").count == 1


def _race(limiter: Limiter, tries: int = 16) -> int:
    """`tries` threads released at once each count one attempt; how many were allowed through."""
    start = threading.Barrier(tries)
    allowed = []

    def one() -> None:
        start.wait()
        hit = limiter.hit(RULE, "target")
        if not hit.over:
            allowed.append(hit.count)

    threads = [threading.Thread(target=one) for _ in range(tries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(allowed)


def test_concurrent_attempts_in_memory_never_pass_the_limit():
    assert _race(Limiter(MemoryCounters())) == RULE.limit


def test_redis_counts_atomically_with_an_expiry_and_keys_that_hide_the_sender(redis_limiter, redis_client):
    assert _race(redis_limiter) == RULE.limit  # 16 threads, 16 connections from the pool: exactly 5 pass
    key = redis_limiter.key(RULE, "target")
    assert 0 < redis_client.pttl(key) <= 60_000  # set with the first hit, in the same script
    assert "target" not in key and int(redis_client.get(key)) == 16
    redis_limiter.undo(RULE, "target")
    assert redis_limiter.peek(RULE, "target").count == 15


def test_two_processes_worth_of_clients_share_the_redis_count(redis_limiter, redis_client):
    other = Limiter(RedisCounters(redis.Redis(host="127.0.0.1", port=6379, db=limits.REDIS_DB)),
                    prefix=redis_limiter.prefix)
    for _ in range(3):
        redis_limiter.hit(RULE, "web-1")
    assert [other.hit(RULE, "web-1").over for _ in range(3)] == [False, False, True]


def test_redis_windows_end(redis_limiter):
    short = Rule("short", 1, 0.3)
    assert [redis_limiter.hit(short, "a").over for _ in range(2)] == [False, True]
    threading.Event().wait(0.45)
    assert redis_limiter.peek(short, "a").count == 0 and not redis_limiter.hit(short, "a").over


def test_a_dead_redis_falls_back_to_counting_in_this_process():
    clock = Clock()
    dead = redis.Redis(host="127.0.0.1", port=1, socket_timeout=0.2, socket_connect_timeout=0.2)
    limiter = Limiter(RedisCounters(dead, clock=clock))
    hits = [limiter.hit(RULE, "web-1") for _ in range(6)]  # no exception, still limited
    assert [h.over for h in hits] == [False] * 5 + [True]


def test_redis_when_configured_memory_otherwise():
    assert isinstance(limiter_from_env({}).counters, MemoryCounters)
    chosen = limiter_from_env({"REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379"}).counters
    assert isinstance(chosen, RedisCounters)
    assert chosen.client.connection_pool.connection_kwargs["db"] == limits.REDIS_DB


def test_the_client_address_is_read_only_from_its_metadata_key():
    assert client_address({"client_address": "203.0.113.7"}) == "203.0.113.7"
    assert client_address({"client_address": ["x"]}) is None and client_address(None) is None
    assert client_address({"client_address": "x" * 100}) is None and client_address("203.0.113.7") is None


def test_hit_over_and_minutes():
    assert Hit(6, 5, 61).over and Hit(6, 5, 61).retry_after_minutes == 2 and not Hit(5, 5, 0).over


# ------------------------------------------------------------------------------------- feedback
def test_a_feedback_flood_is_thanked_but_not_stored(tmp_path, monkeypatch):
    import asyncio
    from dataclasses import replace

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions import services
    from actions.feedback import ActionFeedback
    from bot.core.settings import Settings
    from bot.replies.feedback import FEEDBACK_PER_ADDRESS, FEEDBACK_PER_SENDER
    from bot.store import offload
    from bot.store.question_log import Events

    settings = replace(Settings.from_env(), store_url=f"sqlite:///{tmp_path / 'store.db'}")
    events = Events.open(settings.store_url)
    monkeypatch.setattr(services, "settings", lambda: settings)
    monkeypatch.setattr(services, "events", lambda: events)

    def judge(sender: str, address: str | None = None) -> str:
        latest = {"text": "", "intent": {"name": "feedback"}, "entities": [{"entity": "helpful", "value": "no"}],
                  "metadata": {"client_address": address} if address else {}}
        dispatcher = CollectingDispatcher()
        asyncio.run(ActionFeedback().run(dispatcher, Tracker(sender, {"last_entry": "vneid-kich-hoat"}, latest, [],
                                                             False, None, {}, "action_listen"), {}))
        return dispatcher.messages[0]["text"]

    def stored() -> int:
        assert offload.settle(60)  # feedback is written off the reply's path
        return len(events.feedback())

    replies = [judge("tg-1") for _ in range(FEEDBACK_PER_SENDER.limit + 5)]
    assert len(set(replies)) == 1 and replies[0].startswith("Xin lỗi")  # every one answered alike
    assert stored() == FEEDBACK_PER_SENDER.limit
    judge("tg-2")
    assert stored() == FEEDBACK_PER_SENDER.limit + 1  # another resident still counts
    for n in range(FEEDBACK_PER_ADDRESS.limit + 5):  # a new web sender each time, one address
        judge(f"web-{n:024x}", "198.51.100.7")
    assert stored() == FEEDBACK_PER_SENDER.limit + 1 + FEEDBACK_PER_ADDRESS.limit


# ------------------------------------------------------------------------------------- the unanswered list
def test_one_sender_fills_the_unanswered_list_with_at_most_its_share(tmp_path, monkeypatch):
    from dataclasses import replace

    from rasa_sdk import Tracker

    from actions import services
    from actions.questions import ActionAnswerQuestion
    from bot.core.settings import Settings
    from bot.replies.answers import Reply
    from bot.replies.question_flood import TEXTS_PER_ADDRESS, TEXTS_PER_SENDER
    from bot.store import offload
    from bot.store.question_log import Events

    settings = replace(Settings.from_env(), store_url=f"sqlite:///{tmp_path / 'store.db'}")
    events = Events.open(settings.store_url)
    monkeypatch.setattr(services, "settings", lambda: settings)
    monkeypatch.setattr(services, "events", lambda: events)
    unsure = Reply("Tôi chưa rõ...", declined=True, reason="declined", confidence=0.1)

    def ask(n: int, sender: str, address: str | None = None) -> None:
        latest = {"text": f"câu hỏi rác số {n}", "metadata": {"client_address": address} if address else {}}
        tracker = Tracker(sender, {}, latest, [], False, None, {}, "action_listen")
        ActionAnswerQuestion._record(unsure, latest["text"], "ask_question", tracker)
        if n % 50 == 49:  # the store writes in the background, at most 200 waiting
            assert offload.settle(60)

    for n in range(TEXTS_PER_SENDER.limit + 10):
        ask(n, "tg-1")
    ask(0, "tg-2")
    for n in range(TEXTS_PER_ADDRESS.limit + 10):
        ask(n, f"web-{n:024x}", "198.51.100.8")
    assert offload.settle(60)
    kept = [r for r in events.unanswered() if r.text]
    assert len(kept) == TEXTS_PER_SENDER.limit + 1 + TEXTS_PER_ADDRESS.limit
    assert len(events.questions()) == TEXTS_PER_SENDER.limit + 11 + TEXTS_PER_ADDRESS.limit + 10  # all counted
