"""The multi-server set-up: Rasa's SQL tracker store on the real PostgreSQL and its lock store on the
real Redis (both run on every machine here; CI fails when either is missing)."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from bot.core.settings import ROOT
from tools.launch import Bot

pytestmark = pytest.mark.e2e
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-tAc"]


def psql(sql: str) -> str:
    return subprocess.run([*PG, sql], capture_output=True, text=True, check=True).stdout.strip()


def redis_commands() -> int:
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "info", "stats"],
                         capture_output=True, text=True, check=True).stdout
    return int(next(line.split(":")[1] for line in out.splitlines() if line.startswith("total_commands_processed")))


def test_scaled_endpoints_file_names_postgres_and_redis():
    text = (ROOT / "endpoints.scaled.yml").read_text(encoding="utf-8")
    assert "dialect: postgresql" in text and "type: bot.rasa_side.lock_store.PatientRedisLockStore" in text


def test_conversation_goes_to_postgres_and_locks_to_redis(tmp_path):
    stores = (
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 5432\n"
        "  db: test\n  username: postgres\n  password: ''\n"
        "lock_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n  db: 1\n"
    )
    sender = "web-pg-" + uuid.uuid4().hex[:10]  # web-: the public door's namespace, as stored
    bot = Bot(tmp_path, stores=stores)
    try:
        bot.start()
        before = redis_commands()
        reply = bot.say("quen mat khau vneid", sender)
        assert "Nguồn:" in "\n".join(m.get("text", "") for m in reply)
        assert redis_commands() > before  # the lock store talked to Redis
        assert int(psql(f"select count(*) from events where sender_id = '{sender}'")) > 0
        bot.stop_rasa()
        bot.start_rasa()  # another server (or a restart) sees the same conversation
        tracker = bot.tracker(sender)  # Rasa's API, with the run's token
        assert tracker["slots"]["last_entry"].startswith("vneid-")
    finally:
        bot.stop()
        psql(f"delete from events where sender_id = '{sender}'")
