"""Drives a Rasa lock store from tests/test_lock_store.py, in Rasa's own environment (.venv-rasa).

`python -m tests.fakes.lock_store_driver KIND` with KIND one of: stock (Rasa's RedisLockStore), patient
(PatientRedisLockStore, BOT_LOCK_STORE_WAIT_S), endpoints (whatever endpoints.scaled.yml builds from the
environment). Redis: REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, BOT_REDIS_PREFIX. Reads one command a line on stdin and
answers one JSON line: `lock ID` (take and give back the lock of conversation ID: ok, seconds, error, the Redis keys
seen while holding it, the keys left after), `dead ID` (take a ticket and never give it back, as a Rasa server killed
mid-turn), `describe` (the store's class and key prefix).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.utils import AvailableEndpoints

from bot.core.settings import ROOT
from bot.rasa_side.lock_store import PatientRedisLockStore


def build(kind: str) -> RedisLockStore:
    host, port = os.environ["REDIS_HOST"], int(os.environ["REDIS_PORT"])
    password = os.environ.get("REDIS_PASSWORD") or None
    if kind == "stock":
        return RedisLockStore(host=host, port=port, db=1, password=password)
    if kind == "patient":
        return PatientRedisLockStore(host=host, port=port, db=1, password=password)
    store = LockStore.create(AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.scaled.yml")).lock_store)
    assert isinstance(store, RedisLockStore)
    return store


async def lock(store: RedisLockStore, conversation_id: str) -> dict:
    started = time.monotonic()
    try:
        async with store.lock(conversation_id):
            held = sorted(k.decode() for k in store.red.keys("*"))
    except Exception as err:  # what the turn would have raised, reported to the test
        return {"ok": False, "error": type(err).__name__, "seconds": round(time.monotonic() - started, 2)}
    left = sorted(k.decode() for k in store.red.keys("*"))
    return {"ok": True, "seconds": round(time.monotonic() - started, 2), "held": held, "left": left}


def main() -> None:
    store = build(sys.argv[1])
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "lock":
            answer = asyncio.run(lock(store, arg))
        elif command == "dead":  # a ticket nobody gives back: a Rasa server killed in the middle of a turn
            answer = {"ticket": store.issue_ticket(arg)}
        elif command == "describe":
            answer = {"class": type(store).__name__, "key_prefix": store.key_prefix}
        else:
            answer = {"error": f"unknown command {command!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
