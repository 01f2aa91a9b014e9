"""Rasa's SQL tracker store on SQLite, in WAL mode with `synchronous=NORMAL` (endpoints.yml, one machine).

Rasa 3.6 saves a tracker inside its event loop with a blocking commit, and SQLite's default journal syncs the disk
on every commit (about 17 ms here): for that time no other resident's message moves (bench/profile.md: the commit
was Rasa's hottest function under load). In WAL mode with `synchronous=NORMAL` a commit appends to the log and syncs
only at checkpoints. A committed conversation still survives the Rasa process being killed; only a power loss or an
OS crash may take the last commits with it, which the one-machine set-up accepts (the scaled set-up keeps
conversations in PostgreSQL). Readers (Rasa's API, the tests, the admin) are never blocked by the writer in WAL.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


class SQLiteTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose every SQLite connection runs PRAGMAS; the same table and events as Rasa's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["dialect"] = "sqlite"
        super().__init__(*args, **kwargs)
        event.listen(self.engine, "connect", _set_pragmas)
        self.engine.dispose()  # connections opened while creating the table had no pragmas
