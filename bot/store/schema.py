"""Tables and the engine. One schema for SQLite and PostgreSQL (SQLAlchemy Core, portable types)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

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
from sqlalchemy.engine import Engine

from bot import localtime

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
    Column("text", Text, nullable=False),  # always masked (bot.privacy.mask) before it is stored
    Column("to_resident", Boolean, nullable=False, default=False),  # staff replies and the closing note
    Column("delivered", Boolean, nullable=False, default=True),  # reached the resident's channel (or was polled)
)

# What community digital-technology team members did ("helped a resident with X"), for the commune's monthly report.
helper_activity = Table(
    "helper_activity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("member", String(80), nullable=False),  # a name from the configured list or a hash of the code, never the code
    Column("commune", String(200), nullable=False, default=""),
    Column("topic", String(40), nullable=False, default=""),
    Column("entry_id", String(120), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),  # masked
)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A column's time as aware UTC (SQLite returns naive datetimes), or None."""
    return None if value is None else localtime.as_utc(value)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the action server read while the admin page writes; wait instead of failing on a lock.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


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


def engine_for(url: str) -> Engine:
    """One engine per URL and process, with the schema created (idempotent)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite:///"):
                Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            url_ = with_driver(url)
            engine = create_engine(url_, pool_pre_ping=True, future=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            metadata.create_all(engine)
            _engines[url] = engine
        return engine
