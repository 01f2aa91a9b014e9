"""Rasa's Redis lock store, riding out a Redis restart (endpoints.scaled.yml: `type: bot.rasa_side.lock_store.
PatientRedisLockStore`; measured in bench/faults.md).

Rasa 3.6's RedisLockStore takes a ticket in Redis before every turn (one message at a time per conversation) and
gives it back after. While Redis restarts, taking the ticket fails at once (connection refused): Rasa raises
LockError, the turn never runs, the message is not written to the tracker store and the door can only answer the
busy apology. Here a refused or cut connection is tried again every REDIS_RETRY_EVERY_S for up to
BOT_LOCK_STORE_WAIT_S (default 5 s, inside the doors' 8 s turn deadline), without blocking the event loop between
tries: a restart of a few seconds delays those turns instead of dropping them. Redis down for longer still ends in
LockError (and the apology). Giving the ticket back is tried the same way; if that still fails it is logged, and
the ticket expires by itself after Rasa's lock lifetime.

Only connection errors are tried again, never a timeout: a command that timed out may have been applied.

A waiting turn keeps its own ticket alive. In Rasa 3.6 a ticket expires a lock lifetime after it was issued, also
while its turn is still waiting in line: when a Rasa server dies holding a conversation's ticket (killed mid-turn),
the next turn of that conversation waits for the dead ticket to expire, but its own ticket, issued moments later,
expires about then too, and the turn ends in LockError: its message never reaches the tracker store (measured:
bench/faults.md). Here each second of waiting also moves the waiting ticket's expiry on (and puts it back in line
if it went missing, e.g. lost in a Redis restart), so only tickets of turns that nobody runs any more expire.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.rasa_side.channels.deadline import seconds_from_env

log = logging.getLogger(__name__)

WAIT_ENV = "BOT_LOCK_STORE_WAIT_S"
DEFAULT_WAIT_S = 5.0
REDIS_RETRY_EVERY_S = 0.25
T = TypeVar("T")


class PatientRedisLockStore(RedisLockStore):
    """RedisLockStore (same settings: url, port, db, password, key_prefix, ...) that waits out a Redis restart."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, wait_s: float | None = None,
                 **kwargs: Any) -> None:
        """Built by Rasa from endpoints.yml's lock_store (`endpoint_config`), or directly with RedisLockStore's
        arguments (tests)."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self.wait_s = seconds_from_env(WAIT_ENV, DEFAULT_WAIT_S) if wait_s is None else wait_s

    async def _patiently(self, step: Callable[[], Awaitable[T]], what: str) -> T:
        """`step()`, tried again while Redis refuses or drops the connection, for at most `wait_s`."""
        deadline = time.monotonic() + self.wait_s
        tries = 0
        while True:
            tries += 1
            try:
                result = await step()
            except RedisConnectionError as err:
                if time.monotonic() + REDIS_RETRY_EVERY_S > deadline:
                    raise LockError(f"Redis unreachable for {self.wait_s:g} s while {what}: {err}") from err
                await asyncio.sleep(REDIS_RETRY_EVERY_S)
                continue
            if tries > 1:
                log.warning("lock store: Redis answered again after %d tries while %s", tries, what)
            return result

    def _take_ticket(self, conversation_id: str, lock_lifetime: float) -> int:
        """Rasa's issue_ticket without its catch-all, so a connection error can be told apart."""
        lock = self.get_or_create_lock(conversation_id)
        ticket = lock.issue_ticket(lock_lifetime)
        self.save_lock(lock)
        return ticket

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Rasa's LockStore._acquire_lock, keeping this waiting ticket alive at each round."""
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:  # every ticket gone (expired, or the lock deleted): as in Rasa, the turn cannot go on
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self._keep_waiting(conversation_id, ticket)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    def _keep_waiting(self, conversation_id: str, ticket: int) -> None:
        """Rasa's update_lock (drop expired tickets), also giving the waiting `ticket` a fresh lifetime."""
        lock = self.get_lock(conversation_id)
        if not lock:
            return
        lock.remove_expired_tickets()
        mine = next((t for t in lock.tickets if t.number == ticket), None)
        if mine is None:  # back in its place in line (tickets are kept in number order)
            mine = Ticket(ticket, 0.0)
            lock.tickets.insert(sum(t.number < ticket for t in lock.tickets), mine)
        mine.expires = time.time() + LOCK_LIFETIME
        self.save_lock(lock)

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncGenerator[TicketLock, None]:
        """Rasa's LockStore.lock, each Redis step waiting out a restart."""
        async def take() -> int:
            return self._take_ticket(conversation_id, lock_lifetime)

        ticket = await self._patiently(take, "taking a ticket")
        try:
            yield await self._patiently(
                lambda: self._acquire_lock(conversation_id, ticket, wait_time_in_seconds), "waiting for the lock")
        finally:
            async def give_back() -> None:
                self.cleanup(conversation_id, ticket)

            try:
                await self._patiently(give_back, "giving the ticket back")
            except LockError as err:  # the turn is done; the ticket expires after the lock lifetime
                log.error("lock store: %s", err)
