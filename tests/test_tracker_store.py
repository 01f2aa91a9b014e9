"""The one-machine tracker store (bot/rasa_side/tracker_store.py) in Rasa's own environment: Rasa's table and events,
every connection in WAL mode with synchronous=NORMAL, and saved events read back by a second store on the same file
(a restarted Rasa)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from bot.core.settings import ROOT
from tools.launch import RASA

SCRIPT = """
import asyncio, json, sys
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered, BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

db = sys.argv[1]
config = EndpointConfig(type="bot.rasa_side.tracker_store.SQLiteTrackerStore", db=db)

async def main():
    store = create_tracker_store(config, Domain.empty())
    tracker = DialogueStateTracker("resident-1", [])
    tracker.update(UserUttered("quen mat khau vneid"))
    tracker.update(BotUttered("Bạn làm theo các bước sau"))
    await store.save(tracker)
    with store.engine.connect() as conn:
        pragmas = [conn.exec_driver_sql(p).scalar() for p in ("PRAGMA journal_mode", "PRAGMA synchronous")]
    again = create_tracker_store(config, Domain.empty())  # as after a restart
    read = await again.retrieve("resident-1")
    print(json.dumps({"pragmas": pragmas, "kind": type(store._tracker_store).__name__
                      if hasattr(store, "_tracker_store") else type(store).__name__,
                      "texts": [e.text for e in read.events if hasattr(e, "text")]}))

asyncio.run(main())
"""


def test_wal_store_saves_and_reads_back(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    done = subprocess.run([str(RASA.parent / "python"), "-c", SCRIPT, str(db)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["kind"] == "SQLiteTrackerStore"
    assert out["pragmas"] == ["wal", 1]  # synchronous NORMAL is 1 (FULL, SQLite's default, is 2)
    assert out["texts"] == ["quen mat khau vneid", "Bạn làm theo các bước sau"]
    with sqlite3.connect(db) as conn:  # Rasa's own table, readable by anyone
        rows = conn.execute("SELECT sender_id, type_name FROM events ORDER BY id").fetchall()
    assert rows == [("resident-1", "user"), ("resident-1", "bot")]
