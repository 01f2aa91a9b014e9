"""The Zalo outbox: answers kept in the store (SQLite and a real PostgreSQL) until Zalo took them, retried with
backoff, in order, exactly once, across a restart and a second server; and the Redis-shared de-duplication."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import pytest
from sqlalchemy import select

from bot.messengers.http import HttpxTransport
from bot.messengers.zalo_client import ZaloClient
from bot.messengers.zalo_tokens import TokenStore
from bot.rasa_side.channels.zalo_outbox import ZaloOutbox
from bot.rasa_side.channels.zalo_seen import KEY_PREFIX, SeenEvents
from bot.store.outbox import Outbox
from bot.store.schema import engine_for, outbox
from tests.fakes.zalo_api import FakeTransport, FakeZalo, FakeZaloServer

USER, OTHER = "2512523625412515", "1000000000000002"
FOUR = [{"text": "một"}, {"text": "hai"}, {"text": "ba"}, {"text": "bốn"}]


class Clock:
    def __init__(self, now: float = 1_796_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeZalo:
    return FakeZalo(access_token="access-0", refresh_token="refresh-0")


def client_for(fake: FakeZalo, tmp_path, transport=None, api: str = "http://fake") -> ZaloClient:
    store = TokenStore(tmp_path / "tokens.json", "access-0", "refresh-0")
    return ZaloClient(store, fake.app_id, fake.app_secret, api, api, transport=transport or FakeTransport(fake))


def outbox_for(client: ZaloClient, store_url: str, clock: Clock, **timing) -> ZaloOutbox:
    return ZaloOutbox(client, Outbox.open(store_url, "zalo"), clock=clock, **{"retry_base_s": 2.0, **timing})


def texts(fake: FakeZalo, user: str = USER) -> list[str]:
    return [m.text for m in fake.messages_to(user)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the store ---------------------------------------------------------------------------------------------


def test_only_the_head_is_due_and_a_lease_is_held_by_one(store_url):
    box = Outbox.open(store_url, "zalo")
    first, second = box.add(USER, FOUR[:2], now=100.0)
    box.add(OTHER, FOUR[:1], now=100.0)
    assert box.head(USER).id == first and box.head(USER).message == FOUR[0]
    assert box.claim(first, now=100.0) and not box.claim(first, now=100.0)  # one sender at a time
    assert not box.claim(second, now=99.0)  # not due yet
    assert box.due_recipients(now=100.0) == [OTHER]  # USER's head is leased
    box.retry_at(first, due_at=150.0, attempts=1, error="-32 rate limit")
    assert box.due_recipients(now=120.0) == [OTHER]  # the second message waits behind the first
    assert box.claim(first, now=100.0 + 121.0) is True  # due, and a lease (if any) long expired
    assert Outbox.open(store_url, "telegram").pending() == []  # channels apart


def test_an_expired_lease_is_taken_over(store_url):
    box = Outbox.open(store_url, "zalo")
    (item,) = box.add(USER, FOUR[:1], now=100.0)
    assert box.claim(item, now=100.0, lease_s=60)
    assert not box.claim(item, now=159.0)
    assert box.claim(item, now=161.0)  # the sender died mid-way: another one takes over


# --- delivery ----------------------------------------------------------------------------------------------


async def test_an_answer_is_sent_at_once_and_not_kept(fake, tmp_path, store_url):
    box = outbox_for(client_for(fake, tmp_path), store_url, Clock())
    await box.deliver(USER, FOUR)
    assert texts(fake) == ["một", "hai", "ba", "bốn"]
    assert box.store.pending() == []  # nothing of the answer stays in the store


async def test_a_failed_send_is_kept_retried_and_sent_exactly_once(fake, tmp_path, store_url):
    clock = Clock()
    box = outbox_for(client_for(fake, tmp_path), store_url, clock)
    fake.fail_next(-32, times=2)  # Zalo's rate limit, twice
    await box.deliver(USER, FOUR[:1])
    assert texts(fake) == [] and [p.message for p in box.store.pending(USER)] == FOUR[:1]
    assert await box.run_once() == 0  # not due yet: nothing tried
    clock.now += 2.0
    assert await box.run_once() == 0  # second attempt fails too
    clock.now += 4.0
    assert await box.run_once() == 1
    clock.now += 1000.0
    assert await box.run_once() == 0
    assert texts(fake) == ["một"] and box.store.pending() == []
    assert [a["error"] for a in fake.send_attempts] == [-32, -32, 0]


async def test_zalo_unreachable_then_back_connection_refused(fake, tmp_path, store_url):
    clock = Clock()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    client = client_for(fake, tmp_path, transport=HttpxTransport(timeout_s=2), api=dead)
    box = outbox_for(client, store_url, clock)
    await box.deliver(USER, FOUR)
    assert [p.message for p in box.store.pending(USER)] == FOUR
    server = FakeZaloServer(fake).start()
    try:
        client.send_url = server.url + "/v3.0/oa/message/cs"  # Zalo is back
        clock.now += 600.0
        assert await box.run_once() == 4
        assert await box.run_once() == 0
    finally:
        server.stop()
    assert texts(fake) == ["một", "hai", "ba", "bốn"]  # all of it, once, in order


async def test_a_restart_delivers_what_the_last_process_left(fake, tmp_path, store_url):
    clock = Clock()
    fake.fail_next(-124, times=1)  # unknown code: may pass
    before = outbox_for(client_for(fake, tmp_path), store_url, clock)
    await before.deliver(USER, FOUR[:2])
    await before.deliver(OTHER, FOUR[2:])
    assert texts(fake, OTHER) == ["ba", "bốn"] and texts(fake) == []
    del before  # the process is gone; the store stays
    clock.now += 10.0
    after = outbox_for(client_for(fake, tmp_path), store_url, clock)
    assert await after.run_once() == 2
    assert texts(fake) == ["một", "hai"] and texts(fake, OTHER) == ["ba", "bốn"]


async def test_a_message_refused_for_good_is_skipped_and_the_rest_go_out_in_order(fake, tmp_path, store_url, caplog):
    box = outbox_for(client_for(fake, tmp_path), store_url, Clock())
    fake.fail_next(-201)  # "một" is refused (bad parameter)
    with caplog.at_level(logging.WARNING):
        await box.deliver(USER, FOUR)
    assert texts(fake) == ["hai", "ba", "bốn"] and box.store.pending() == []
    assert "refused a message" in caplog.text and USER not in caplog.text


async def test_a_failure_that_may_pass_holds_the_rest_in_order(fake, tmp_path, store_url):
    clock = Clock()
    box = outbox_for(client_for(fake, tmp_path), store_url, clock)
    await box.deliver(USER, FOUR[:1])
    fake.fail_next(-32)
    await box.deliver(USER, FOUR[1:])
    await box.deliver(USER, [{"text": "năm"}])  # a later answer waits behind the failed one
    assert texts(fake) == ["một"]
    clock.now += 2.0
    await box.run_once()
    assert texts(fake) == ["một", "hai", "ba", "bốn", "năm"]


async def test_backoff_doubles_up_to_the_cap_and_is_given_up_when_too_old(fake, tmp_path, store_url, caplog):
    clock = Clock()
    box = outbox_for(client_for(fake, tmp_path), store_url, clock, retry_base_s=2.0, retry_max_s=30.0,
                     give_up_after_s=200.0)
    fake.fail_next(-32, times=1000)
    await box.deliver(USER, FOUR[:1])
    delays = []
    with caplog.at_level(logging.ERROR):
        while box.store.pending():
            (item,) = box.store.pending()
            delays.append(item.due_at - clock.now)
            clock.now = item.due_at
            await box.run_once()
    upper = [2, 4, 8, 16, 30, 30, 30]  # the first attempt was at once, in deliver
    # doubling, randomised in the upper half; later delays stay at the cap, so only the first ones are compared
    assert all(up / 2 <= d <= up for d, up in zip(delays, upper, strict=False))
    assert len(delays) >= 8 and sum(delays) >= 200.0
    assert "given up" in caplog.text and texts(fake) == []


async def test_two_servers_sharing_the_store_send_each_message_once_in_order(fake, tmp_path, store_url):
    clock = Clock()
    fake.fail_next(-32, times=1)
    first = outbox_for(client_for(fake, tmp_path), store_url, clock)
    await first.deliver(USER, FOUR)
    second = outbox_for(client_for(fake, tmp_path), store_url, clock)
    clock.now += 5.0
    await asyncio.gather(first.run_once(), second.run_once(), first.drain(USER), second.drain(USER))
    assert texts(fake) == ["một", "hai", "ba", "bốn"]


async def test_the_outbox_keeps_no_token_and_no_secret(fake, tmp_path, store_url):
    box = outbox_for(client_for(fake, tmp_path), store_url, Clock())
    fake.expire_access_token()
    fake.fail_next(-32, times=5)
    await box.deliver(USER, FOUR[:1])
    with engine_for(store_url).connect() as conn:
        rows = [dict(r) for r in conn.execute(select(outbox)).mappings()]
    assert len(rows) == 1 and json.loads(rows[0]["message"]) == FOUR[0]
    dump = json.dumps(rows, ensure_ascii=False)
    assert "access-" not in dump and "refresh-" not in dump and fake.app_secret not in dump


async def test_a_store_that_is_down_still_answers_once(fake, tmp_path, caplog):
    class Down(Outbox):
        def add(self, *a, **k):
            raise OSError("database is down")

    box = ZaloOutbox(client_for(fake, tmp_path), Down(engine_for(f"sqlite:///{tmp_path / 's.db'}"), "zalo"),
                     clock=Clock())
    with caplog.at_level(logging.ERROR):
        await box.deliver(USER, FOUR[:2])
    assert texts(fake) == ["một", "hai"] and "without retries" in caplog.text


async def test_a_store_down_at_start_up_is_opened_once_it_is_back(fake, tmp_path, monkeypatch, caplog):
    import bot.rasa_side.channels.zalo_outbox as module

    clock = Clock()
    box = ZaloOutbox.open(client_for(fake, tmp_path), f"postgresql://nobody@127.0.0.1:{free_port()}/none",
                          clock=clock)
    with caplog.at_level(logging.ERROR):
        await box.deliver(USER, FOUR[:1])  # answered once, directly
    assert box.store is None and texts(fake) == ["một"] and "store unavailable" in caplog.text
    box.store_url = f"sqlite:///{tmp_path / 'back.db'}"  # the database is back...
    await box.deliver(USER, FOUR[1:2])
    assert box.store is None  # ...but is not hammered: tried again after STORE_RETRY_S
    monkeypatch.setattr(module, "STORE_RETRY_S", 0.0)
    box._store_retry_at = 0.0
    fake.fail_next(-32)
    await box.deliver(USER, FOUR[2:3])
    assert box.store is not None and [p.message for p in box.store.pending()] == FOUR[2:3]  # kept for a retry


# --- de-duplication shared through Redis (the real server at 127.0.0.1:6379; no skip) -----------------------


def redis_env() -> dict[str, str]:
    return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379"}


async def test_a_delivery_seen_by_one_server_is_seen_by_another():
    import uuid

    first, second = SeenEvents.from_env(redis_env(), "app"), SeenEvents.from_env(redis_env(), "app")
    key = "msg-" + uuid.uuid4().hex
    try:
        assert first.shared and second.shared
        assert await first.seen(key) is False
        assert await second.seen(key) is True  # another process (or this one after a restart) refuses the replay
        assert await first.seen(key) is True
        assert await second.seen("msg-" + uuid.uuid4().hex) is False
        keys = [k.decode() for k in await first.redis.keys(KEY_PREFIX + "*")]
        assert keys and all(USER not in k and key not in k for k in keys)  # hashed
        ttl = await first.redis.ttl(next(iter(keys)))
        assert 0 < ttl <= first.ttl_s
    finally:
        await first.close()
        await second.close()


async def test_without_redis_host_it_stays_in_this_process():
    seen = SeenEvents.from_env({}, "app")
    assert not seen.shared and await seen.seen("k") is False and await seen.seen("k") is True


async def test_a_redis_that_is_down_costs_no_answer(caplog):
    import time

    seen = SeenEvents.from_env({"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(free_port())}, "app")
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        assert await seen.seen("k1") is False  # answered: Redis is away, not the resident's problem
        assert await seen.seen("k1") is True  # still de-duplicated in this process
        assert await seen.seen("k2") is False
    assert time.monotonic() - started < 2.0 and "Redis unreachable" in caplog.text
    await seen.close()
