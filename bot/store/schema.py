"""Tables and the engine. One schema for SQLite and PostgreSQL (SQLAlchemy Core, portable types).

A change to a table here needs a migration too: `python -m bot.store.migrate revision -m "what changed"`
(bot/store/migrations/; tests/test_store_migrations.py fails while the two disagree)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path
from typing import overload

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url

from bot.core import localtime
from bot.store import schema_version

metadata = MetaData()

# The working copy: one row per entry, the latest revision's data (JSON of Entry.to_dict()).
entries = Table(
    "kb_entries",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("topic", String(40), nullable=False, index=True),
    Column("status", String(10), nullable=False),  # active | retired
    Column("revision", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(80), nullable=False),
)

# Every change ever made; never updated or deleted.
revisions = Table(
    "kb_revisions",
    metadata,
    Column("entry_id", String(120), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("status", String(10), nullable=False),
    Column("data", Text, nullable=False),
    Column("action", String(20), nullable=False),  # create | edit | retire | restore | import | seed
    Column("author", String(80), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("comment", Text, nullable=False, default=""),
)

# A publish: the set of (entry, revision) the bot serves, and how its index build went.
releases = Table(
    "kb_releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("author", String(80), nullable=False),
    Column("status", String(10), nullable=False),  # building | live | failed
    Column("snapshot", Text, nullable=False),  # JSON {entry_id: revision number}
    Column("entries", Integer, nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("index_name", String(40), nullable=False, default=""),
    Column("finished_at", DateTime(timezone=True)),
)

users = Table(
    "admin_users",
    metadata,
    Column("username", String(80), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),  # editor | publisher
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

sessions = Table(
    "admin_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie: a leaked table opens nothing
    Column("username", String(80), ForeignKey("admin_users.username"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "admin_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(80), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(200), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
)

# What residents asked, for admins: every answered question's entry (no text), and the masked text
# of questions the bot declined or answered with low confidence.
questions = Table(
    "question_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("outcome", String(20), nullable=False),  # answered | low_confidence | clarify | declined
    Column("entry_id", String(120)),
    Column("topic", String(40)),
    Column("confidence", Float),
    Column("text", Text),  # masked; only kept when the bot did not answer confidently
    Column("resolved_by", String(120)),  # entry created from this question's group
)

feedback = Table(
    "answer_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("entry_id", String(120)),
    Column("helpful", Boolean, nullable=False),
)


# Handoff tickets (bot/store/tickets.py): a resident asked for a person; staff answer from the admin page.
tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False, unique=True),  # what the resident and staff say: "HT-KM482"
    Column("sender_id", String(128), nullable=False, index=True),  # the Rasa conversation id (tg-…, zalo-…, web-…)
    Column("channel", String(20), nullable=False),  # telegram | zalo | webchat | rest
    Column("commune", String(200), nullable=False, default=""),  # directory label; "" = the default contacts
    Column("topic", String(40), nullable=False, default=""),
    Column("status", String(10), nullable=False, index=True),  # open | closed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("resolution", Text, nullable=False, default=""),
    Column("closed_by", String(80), nullable=False, default=""),
    # The resident's next message gets a short "passed on" note: once after opening, once after each staff reply.
    Column("ack_pending", Boolean, nullable=False, default=True),
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(10), nullable=False),  # resident | bot | staff | system
    Column("author", String(80), nullable=False, default=""),  # staff username; "" for the resident and the bot
    Column("text", Text, nullable=False),  # always masked (bot.core.privacy.mask) before it is stored
    Column("to_resident", Boolean, nullable=False, default=False),  # staff replies and the closing note
    Column("delivered", Boolean, nullable=False, default=True),  # reached the resident's channel (or was polled)
)

# What community digital-technology team members did ("helped a resident with X"), for the commune's monthly report.
helper_activity = Table(
    "helper_activity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    # a name from the configured list or a hash of the code, never the code
    Column("member", String(80), nullable=False),
    Column("commune", String(200), nullable=False, default=""),
    Column("topic", String(40), nullable=False, default=""),
    Column("entry_id", String(120), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),  # masked
)

# Messages a channel still has to deliver (bot/store/outbox.py): a row lives from the bot's answer until the channel's
# API took it, so an answer survives a restart or an outage. Times are epoch seconds: compared in SQL the same way
# on SQLite and PostgreSQL.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # order of sending within a recipient
    Column("channel", String(20), nullable=False),  # zalo
    Column("recipient", String(128), nullable=False, index=True),  # the channel's user id
    Column("message", Text, nullable=False),  # JSON of the channel's message: the bot's answer, never a secret
    Column("created_at", Float, nullable=False),
    Column("due_at", Float, nullable=False, index=True),  # next attempt
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_until", Float),  # a sender is on it until then; others leave it alone
    Column("last_error", String(200), nullable=False, default=""),
)

# An admin's pinned order of a topic's menu (bot/store/menus.py): the entries a resident who names the topic without
# a task sees first, before the question log's most answered and knowledge/menus/topic_tasks.yml's defaults.
menu_pins = Table(
    "menu_pins",
    metadata,
    Column("topic", String(40), primary_key=True),
    Column("position", Integer, primary_key=True),  # 1 = the first button
    Column("entry_id", String(120), nullable=False),
    Column("pinned_by", String(80), nullable=False),
    Column("pinned_at", DateTime(timezone=True), nullable=False),
)


# A team contact the admin page mapped (bot/store/teams.py): who helps a commune's residents and where its new tickets
# are announced, or a province's fallback for its communes without one. `data` is JSON of bot.handoff.teams.Team.data().
commune_teams = Table(
    "commune_teams",
    metadata,
    Column("kind", String(10), primary_key=True),  # commune | province
    Column("code", Integer, primary_key=True),  # the official code of the commune or province
    Column("label", String(200), nullable=False),  # "Xã Phù Đổng, Thành phố Hà Nội" / "Thành phố Hà Nội"
    Column("data", Text, nullable=False),
    Column("updated_by", String(80), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

@overload
def as_utc(value: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A column's time as aware UTC (SQLite returns naive datetimes), or None."""
    return None if value is None else localtime.as_utc(value)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


# Every call gives up in seconds, never minutes: a worker thread stuck on a locked or silent database is a thread
# the action server does not get back (bot/store/offload.py bounds what a resident waits; these bound the thread).
CONNECT_TIMEOUT_S = 2  # PostgreSQL connect, and a pool checkout (libpq's minimum is 2)
LOCK_WAIT_MS = 2000  # waiting for a write lock: SQLite's busy timeout, PostgreSQL's lock_timeout
STATEMENT_TIMEOUT_MS = 5000  # PostgreSQL, any one statement
TCP_USER_TIMEOUT_MS = 10000  # PostgreSQL, a connection whose server stopped acknowledging (network gone)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the action server read while the admin page writes; wait briefly instead of failing on a lock.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor) -> None:
    """PRAGMA journal_mode=WAL, tried again for up to LOCK_WAIT_MS: processes opening a new file at the same moment
    each switch it, and SQLite answers some of them "database is locked" at once, without the busy timeout (it would
    be a deadlock between their shared locks); seen in test_processes_opening_a_fresh_store_at_once_do_not_collide."""
    deadline = time.monotonic() + LOCK_WAIT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def with_driver(url: str) -> str:
    """A bare postgresql:// URL with the driver this environment has: psycopg 3 (action server, admin page) or
    psycopg2 (the Rasa environment, which serves the web chat inbox on SQLAlchemy 1.4)."""
    if not url.startswith("postgresql://"):
        return url
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return "postgresql+psycopg://" + url[len("postgresql://"):]


def _timeouts(url: str) -> dict:
    """create_engine arguments that bound every wait; a value set in the URL's query string wins."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": LOCK_WAIT_MS / 1000}}
    defaults = {"connect_timeout": CONNECT_TIMEOUT_S, "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
                "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_WAIT_MS}"}
    return {"pool_timeout": CONNECT_TIMEOUT_S,
            "connect_args": {k: v for k, v in defaults.items() if k not in parsed.query}}


def new_engine(url: str) -> Engine:
    """An engine for `url` with the store's timeouts, its schema neither checked nor upgraded."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    url_ = with_driver(url)
    # hide_parameters: a failed statement's message would otherwise quote what a resident wrote
    engine = create_engine(url_, pool_pre_ping=True, future=True, hide_parameters=True, **_timeouts(url_))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def engine_for(url: str) -> Engine:
    """One engine per URL and process, its schema at the newest migration: upgraded here where Alembic is installed
    (the action server, the admin page), only checked in the Rasa server (bot/store/schema_version.py)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = new_engine(url)
            try:
                schema_version.prepare(engine)
            except BaseException:
                engine.dispose()  # not kept: the next open checks again (the store may be upgraded by then)
                raise
            _engines[url] = engine
        return engine
