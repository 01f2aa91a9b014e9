"""Alembic migrations of the store: upgrade on open, safely when several processes open one database at once.

    python -m bot.store.migrate upgrade            (make db-upgrade) the store at BOT_STORE_URL to the newest revision
    python -m bot.store.migrate current            its revision
    python -m bot.store.migrate sql                the DDL of every revision, for a DBA who applies it by hand
    python -m bot.store.migrate revision -m MSG    a new revision from the difference between schema.py and the store

Action-server side only (.venv-actions has Alembic; the Rasa server checks, bot/store/schema_version.py).

One upgrader at a time: on PostgreSQL a transaction-scoped advisory lock (two processes running DDL on a fresh
database at once collided on pg_type's unique index); on a SQLite file a write transaction taken up front (BEGIN
IMMEDIATE), which also makes the migration atomic. The second process then finds the store upgraded.

A database made by create_all before migrations existed has no version table: it is stamped with the revision whose
tables it has, then upgraded from there.
"""

from __future__ import annotations

import argparse
import sys
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine

from bot.store import schema_version

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed 64-bit number; advisory locks are per database, so stores in other databases do not wait on each other.
ADVISORY_KEY = zlib.crc32(b"bot.store.migrate")
UPGRADE_WAIT_MS = 60_000  # another process's upgrade, or readers of a table being altered; not the store's 2 s

# Databases made by create_all before migrations: the revision whose tables they have, newest first.
_INITIAL = {"kb_entries", "kb_revisions", "kb_releases", "admin_users", "admin_sessions", "admin_audit",
            "question_log", "answer_feedback", "tickets", "ticket_messages", "helper_activity"}
_LEGACY = (("0002", _INITIAL | {"outbox"}), ("0001", _INITIAL))


# Alembic's `context` and `op` are process-wide: two threads migrating (even different databases) would mix them up.
_alembic_lock = threading.Lock()


class UnknownSchema(RuntimeError):
    """Tables of the store without a version table, matching no revision: left alone rather than guessed at."""


def config(url: str | None = None) -> Config:
    """Alembic's configuration, built here instead of read from an alembic.ini."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Only the store's own tables are compared: Rasa's tracker tables may share the database."""
    from bot.store.schema import metadata

    return type_ != "table" or name in metadata.tables


def head() -> str:
    head_ = ScriptDirectory.from_config(config()).get_current_head()
    assert head_ is not None
    return head_


def legacy_revision(conn: Connection) -> str | None:
    """The revision a database without a version table is at: None when it has none of the store's tables."""
    tables = set(inspect(conn).get_table_names())
    if not tables & _LEGACY[0][1]:
        return None
    for revision, expected in _LEGACY:
        if expected <= tables:
            return revision
    raise UnknownSchema(f"store tables without a version table, missing {sorted(_INITIAL - tables)}")


def _sqlite_file(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def _sqlite_autocommit_wal(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # BEGIN is ours (below)
    dbapi_connection.execute("PRAGMA journal_mode=WAL")


@contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other upgrader holds at the same time; committed on exit."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL lock_timeout = {UPGRADE_WAIT_MS}"))
            conn.execute(text(f"SET LOCAL statement_timeout = {UPGRADE_WAIT_MS}"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY})
            yield conn
    elif _sqlite_file(engine):
        # pysqlite does not begin a transaction before DDL: take over BEGIN (SQLAlchemy's documented recipe), on
        # an engine of our own so the store's engine keeps its behaviour.
        # WAL first, as the store's own connections do: an upgrader that left a new file in rollback-journal mode held
        # its write lock over the whole migration, and every other process's connect-time switch to WAL (which needs
        # an exclusive lock) gave up after the store's 2 s with "database is locked" (seen on a loaded CI machine).
        own = create_engine(engine.url, connect_args={"timeout": UPGRADE_WAIT_MS / 1000})
        event.listen(own, "connect", _sqlite_autocommit_wal)
        event.listen(own, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        try:
            with own.begin() as conn:
                yield conn
        finally:
            own.dispose()
    else:  # in-memory SQLite: one process
        with engine.begin() as conn:
            yield conn


def upgrade(engine: Engine, target: str = "head") -> None:
    """Bring the store to `target` (stamping a database made by create_all first). Cheap when already there."""
    if target == "head" and schema_version.current(engine) == head():
        return
    with _alembic_lock, _exclusive(engine) as conn:
        cfg = config()
        cfg.attributes["connection"] = conn
        if not inspect(conn).has_table(schema_version.VERSION_TABLE):
            legacy = legacy_revision(conn)
            if legacy is not None:
                command.stamp(cfg, legacy)
        command.upgrade(cfg, target)


def main(argv: list[str] | None = None) -> int:
    from bot.core.settings import Settings
    from bot.store.schema import engine_for, new_engine

    parser = argparse.ArgumentParser(prog="python -m bot.store.migrate", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("upgrade", help="upgrade the store at BOT_STORE_URL to the newest revision")
    sub.add_parser("current", help="the store's revision")
    sub.add_parser("sql", help="print the DDL of every revision (PostgreSQL), without a database")
    rev = sub.add_parser("revision", help="write a new revision from schema.py's difference with an upgraded store")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    url = Settings.from_env().store_url
    if args.cmd == "upgrade":
        engine_for(url)  # opening upgrades
        print(f"store at {schema_version.current(engine_for(url))}")
    elif args.cmd == "current":
        print(schema_version.current(new_engine(url)) or "none")
    elif args.cmd == "sql":
        command.upgrade(config("postgresql://"), "head", sql=True)
    else:
        cfg = config()
        with engine_for(url).connect() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=args.message, autogenerate=True, rev_id=f"{int(head()) + 1:04d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
