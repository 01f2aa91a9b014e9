"""Zalo answers that must not be lost: queued in the store's outbox, sent in order, retried with backoff.

The channel hands every answer to `deliver`: the messages are written to the outbox (bot/store/outbox.py) first, then
sent at once. A message Zalo did not take for a reason that may pass (network, outage, rate limit, token trouble)
stays in the outbox with the ones after it and is retried after `retry_base_s`, doubling up to `retry_max_s`, until
it is `give_up_after_s` old. A message Zalo refuses for good (bad parameter, not a follower, the 7-day window passed)
is dropped and the next one goes out. `run` is the retry loop: the Zalo channel starts it with the Rasa server, and a
restarted server picks up what the last one left.

What is stored: the Zalo user id and the bot's answer, as Zalo would receive it. The resident's own text is masked
(bot.core.privacy) before Rasa sees it, so an answer that quotes it quotes the masked form; tokens are never stored.
Standard library and SQLAlchemy only (no Rasa): tested in the action-server environment.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Callable

from bot.core.privacy import mask
from bot.messengers.zalo_client import SendReport, ZaloClient
from bot.messengers.zalo_events import user_ref
from bot.store.outbox import Outbox

log = logging.getLogger(__name__)
CHANNEL = "zalo"
MAX_POLL_S = 5.0  # how long a due retry may wait for the loop to notice it
STORE_RETRY_S = 30.0  # a store that could not be opened is tried again after this long


class ZaloOutbox:
    """Delivers Zalo answers through the outbox."""

    def __init__(
        self,
        client: ZaloClient,
        store: Outbox | None = None,
        *,
        store_url: str = "",
        retry_base_s: float = 2.0,
        retry_max_s: float = 300.0,
        give_up_after_s: float = 24 * 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.store = store  # None until opened from store_url; meanwhile answers are sent without a safety net
        self.store_url = store_url
        self._store_retry_at = 0.0
        self.retry_base_s = retry_base_s
        self.retry_max_s = max(retry_max_s, retry_base_s)
        self.give_up_after_s = give_up_after_s
        self.clock = clock
        self.poll_s = min(MAX_POLL_S, retry_base_s)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    def open(cls, client: ZaloClient, store_url: str, **timing: float) -> ZaloOutbox:
        """The outbox on the store at `store_url`, opened (its table created) on first use."""
        return cls(client, None, store_url=store_url, **timing)

    async def ready(self) -> Outbox | None:
        """The store, opened now if it was not yet (off the event loop); None while it cannot be (logged, retried
        after STORE_RETRY_S: a database that was down at start-up must not leave the outbox off for good)."""
        if self.store is None and self.store_url and time.monotonic() >= self._store_retry_at:
            try:
                self.store = await asyncio.to_thread(Outbox.open, self.store_url, CHANNEL)
            except Exception as exc:
                self._store_retry_at = time.monotonic() + STORE_RETRY_S
                log.error("Zalo outbox store unavailable (%s): answers are sent once, without retries, until it is",
                          type(exc).__name__)
        return self.store

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt `attempts` + 1: doubling from retry_base_s up to retry_max_s, the upper half
        randomised so that many users' retries after an outage do not all hit Zalo in the same second."""
        delay = min(self.retry_max_s, self.retry_base_s * 2 ** min(attempts - 1, 30))
        return delay * random.uniform(0.5, 1.0)

    async def deliver(self, user_id: str, messages: list[dict]) -> None:
        """Keep `messages` for `user_id` in the outbox, then send what is due for them now."""
        if not messages:
            return
        if await self.ready() is not None:
            try:
                await asyncio.to_thread(self.store.add, user_id, messages, self.clock())
            except Exception as exc:
                log.error("Zalo outbox write failed (%s): the answer to %s is sent once, without retries",
                          type(exc).__name__, user_ref(user_id))
            else:
                await self.drain(user_id)
                return
        report: SendReport = await self.client.send_all(user_id, messages)
        if report.unsent:
            log.error("Zalo answer to %s lost: %d message(s) not sent and no outbox", user_ref(user_id),
                      len(report.unsent))

    async def drain(self, user_id: str) -> int:
        """Send `user_id`'s due messages in order until one must wait; how many went out. Never raises."""
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        async with lock:  # the loop and a new answer never send one user's messages side by side
            sent = 0
            try:
                while await self._send_head(user_id):
                    sent += 1
            except Exception as exc:  # the store failed mid-way: the rows stay, the loop comes back
                log.error("Zalo outbox for %s: store error %s; retried later", user_ref(user_id), type(exc).__name__)
            return sent

    async def _send_head(self, user_id: str) -> bool:
        """Try the user's oldest message; True when the next one may be tried right away."""
        assert self.store is not None
        now = self.clock()
        head = await asyncio.to_thread(self.store.head, user_id)
        if head is None or head.due_at > now or not await asyncio.to_thread(self.store.claim, head.id, now):
            return False
        result = await self.client.send_message(user_id, head.message)
        if result.ok:
            await asyncio.to_thread(self.store.sent, head.id)
            if head.attempts:
                log.info("Zalo message to %s sent after %d failed attempt(s)", user_ref(user_id), head.attempts)
            return True
        attempts, detail = head.attempts + 1, mask(result.detail)
        if not result.retryable:
            log.warning("Zalo refused a message to %s for good (error %s); the next one is sent",
                        user_ref(user_id), result.error)
            await asyncio.to_thread(self.store.drop, head.id)
            return True
        if now - head.created_at >= self.give_up_after_s:
            log.error("Zalo message to %s given up after %d attempts over %.0f s (last: error %s %s)",
                      user_ref(user_id), attempts, now - head.created_at, result.error, detail)
            await asyncio.to_thread(self.store.drop, head.id)
            return True
        delay = self.backoff(attempts)
        log.warning("Zalo message to %s not sent (attempt %d: error %s %s); retry in %.0f s",
                    user_ref(user_id), attempts, result.error, detail, delay)
        await asyncio.to_thread(self.store.retry_at, head.id, now + delay, attempts,
                                f"{result.error} {detail}".strip())
        return False

    async def run_once(self) -> int:
        """One pass of the retry loop: drain every user with a message due; how many messages went out."""
        if await self.ready() is None:
            return 0
        users = await asyncio.to_thread(self.store.due_recipients, self.clock())
        sent = 0
        for user_id in users:
            sent += await self.drain(user_id)
        return sent

    async def run(self) -> None:
        """The retry loop, until cancelled (the channel starts it with the server and cancels it at shutdown)."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: try again next round
                log.error("Zalo outbox loop: %s; trying again in %.0f s", type(exc).__name__, self.poll_s)
            await asyncio.sleep(self.poll_s)
