"""Rasa's lock store while Redis restarts (bot/rasa_side/lock_store.py), and the password and key prefix of
endpoints.scaled.yml, on a real redis-server of the test's own (tools/redis_server.py: killed and started again on the
same port; the machine's Redis is never touched). Without redis-server this fails (RedisMissing), it never skips.
The lock store runs in Rasa's environment (tests/fakes/lock_store_driver.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.settings import ROOT
from tools.redis_server import RedisServer

PY_RASA = ROOT / ".venv-rasa" / "bin" / "python"


class Driver:
    """A lock store in Rasa's Python, one command at a time."""

    def __init__(self, kind: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([str(PY_RASA), "-m", "tests.fakes.lock_store_driver", kind], cwd=ROOT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT), **env}, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, command: str) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the driver stopped (exit {self.proc.poll()})"
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(20)


@pytest.fixture()
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop(signal.SIGKILL)


def driver(kind: str, redis: RedisServer, **env: str) -> Driver:
    return Driver(kind, {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis.port), **env})


def restart_later(redis: RedisServer, after_s: float) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(after_s), redis.start()), daemon=True)
    thread.start()
    return thread


def test_rasas_own_lock_store_drops_the_turn_while_redis_restarts(redis):
    """The cause: with Rasa's RedisLockStore a message that arrives while Redis restarts never gets its turn."""
    store = driver("stock", redis)
    try:
        assert store.ask("lock web-a")["ok"]
        redis.stop(signal.SIGKILL)
        later = restart_later(redis, 1.0)
        failed = store.ask("lock web-a")
        assert not failed["ok"] and failed["error"] == "LockError" and failed["seconds"] < 1.0, failed
        later.join()
    finally:
        store.close()


def test_the_patient_lock_store_waits_out_a_restart_and_gives_the_ticket_back(redis):
    store = driver("patient", redis, BOT_LOCK_STORE_WAIT_S="5")
    try:
        assert store.ask("lock web-b")["ok"]  # connected before the restart: the pool holds a dead connection after
        time.sleep(1.2)  # the append-only file is written every second: a kill sooner may bring the old ticket back
        redis.stop(signal.SIGKILL)
        later = restart_later(redis, 1.5)
        taken = store.ask("lock web-b")
        later.join()
        assert taken["ok"], taken
        assert 1.4 <= taken["seconds"] < 5, taken  # it waited for Redis, not for the whole allowance
        assert taken["held"] == ["lock:web-b"] and taken["left"] == [], taken  # taken in Redis, then given back
    finally:
        store.close()


def test_a_turn_waiting_behind_a_dead_servers_ticket_runs_when_that_ticket_expires(redis):
    """In Rasa 3.6 the waiting turn's own ticket expires about when the dead one does, and the turn ends in
    LockError (bench/faults.md, rasa phase); the patient store keeps a waiting ticket alive."""
    store = driver("patient", redis, TICKET_LOCK_LIFETIME="3")
    try:
        assert store.ask("dead web-e")["ticket"] == 0
        taken = store.ask("lock web-e")
        assert taken["ok"], taken
        assert 2.5 <= taken["seconds"] < 6, taken  # once the dead ticket's 3 s were over
        assert taken["held"] == ["lock:web-e"] and taken["left"] == [], taken
    finally:
        store.close()


def test_redis_down_for_longer_than_the_wait_still_ends_the_turn_in_time(redis):
    store = driver("patient", redis, BOT_LOCK_STORE_WAIT_S="1")
    try:
        redis.stop(signal.SIGKILL)
        failed = store.ask("lock web-c")
        assert not failed["ok"] and failed["error"] == "LockError" and 0.7 <= failed["seconds"] < 2.5, failed
    finally:
        store.close()


def test_endpoints_scaled_sends_the_password_and_puts_the_prefix_before_the_lock_keys(tmp_path):
    server = RedisServer(tmp_path / "redis-auth", password="s3cret-for-tests")
    server.start()
    stores = (ROOT / "endpoints.scaled.yml").read_text(encoding="utf-8")
    env = {"REDIS_PASSWORD": "s3cret-for-tests", "BOT_REDIS_PREFIX": "deploymentA", "ACTION_SERVER_URL": "http://x",
           "ACTION_SERVER_TOKEN": "t", "TRACKER_DB_HOST": "h", "TRACKER_DB_PORT": "5432", "TRACKER_DB": "d",
           "TRACKER_DB_USER": "u", "TRACKER_DB_PASSWORD": ""}
    store = driver("endpoints", server, **env)
    try:
        assert "PatientRedisLockStore" in stores
        assert store.ask("describe") == {"class": "PatientRedisLockStore", "key_prefix": "deploymentA:lock:"}
        taken = store.ask("lock web-d")
        assert taken["ok"] and taken["held"] == ["deploymentA:lock:web-d"], taken  # AUTH accepted, key prefixed
    finally:
        store.close()
    wrong = driver("endpoints", server, **{**env, "REDIS_PASSWORD": "wrong", "BOT_LOCK_STORE_WAIT_S": "0.5"})
    try:
        assert wrong.ask("lock web-d")["error"] == "LockError"  # the password is really sent
    finally:
        wrong.close()
        server.stop(signal.SIGKILL)
