"""Store calls from async code (the action server's actions) run on worker threads, never on the event loop.

SQLAlchemy and its drivers block. One blocked call on the event loop (a held SQLite write lock, a PostgreSQL
server that does not answer) freezes every conversation of the process. So:

- `await call(fn, ...)` runs a store call the reply needs on a small pool of threads and gives up waiting after
  REPLY_BUDGET_S (TimeoutError): the action then sends its degraded reply. The thread itself finishes on its own,
  bounded by the engine's connect, lock and statement timeouts (bot/store/schema.py).
- `in_background(what, fn, ...)` is for writes the reply does not need (question log, feedback): queued on
  another pool, never awaited, failures logged by name and error type only (an SQL error can quote the values,
  and the values are what residents wrote). At most MAX_WAITING writes wait; beyond that they are dropped and
  counted, so a store that is down costs statistics, not memory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

REPLY_BUDGET_S = 1.5  # a resident's reply waits at most this long for the store (the rest of 2 s is for the bot)
MAX_WAITING = 200  # background writes queued or running; more are dropped while the store is down

# Separate pools: a backlog of statistics writes never delays a store call a reply is waiting for.
_calls = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="store-call")
_writes = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="store-write")
_waiting: set[concurrent.futures.Future] = set()
_waiting_lock = threading.Lock()
dropped = 0  # background writes given up because too many were waiting (for tests and the log)


class Budget:
    """One reply's wait for the store, shared by the several calls that reply makes."""

    def __init__(self, seconds: float = REPLY_BUDGET_S) -> None:
        self.until = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.until - time.monotonic())


async def call(fn: Callable[..., T], *args: Any, timeout: float = REPLY_BUDGET_S, **kwargs: Any) -> T:
    """fn(*args, **kwargs) on a store thread; TimeoutError if it has not finished within `timeout` seconds
    (a call still queued is then cancelled; one already running ends at the engine's timeouts)."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_calls, functools.partial(fn, *args, **kwargs))
    return await asyncio.wait_for(future, timeout)


def in_background(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Queue a write nobody waits for; False when it was dropped. `what` names it in the log ("question log")."""
    global dropped
    with _waiting_lock:
        if len(_waiting) >= MAX_WAITING:
            dropped += 1
            log.warning("store write dropped (%s): %d writes already waiting", what, len(_waiting))
            return False
        future = _writes.submit(_logged, what, fn, args, kwargs)
        _waiting.add(future)
    future.add_done_callback(_done)
    return True


def _logged(what: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        fn(*args, **kwargs)
    except Exception as err:  # the error's text may quote the row: log its type only
        log.error("store write failed (%s): %s", what, type(err).__name__)


def _done(future: concurrent.futures.Future) -> None:
    with _waiting_lock:
        _waiting.discard(future)


def settle(timeout: float = 30.0) -> bool:
    """Wait until the background writes queued so far are done (tests; a clean shutdown). True if they are."""
    with _waiting_lock:
        pending = list(_waiting)
    _, not_done = concurrent.futures.wait(pending, timeout)
    return not not_done
