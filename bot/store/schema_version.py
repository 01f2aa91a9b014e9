"""Which revision of the migrations (bot/store/migrations/) a store's schema is at. No Alembic import.

The action server, the admin page and set-up have Alembic (.venv-actions): opening a store upgrades it to the newest
revision (bot/store/migrate.py). The Rasa server (.venv-rasa: SQLAlchemy 1.4, no Alembic) never creates or alters a
table: it only checks that the store was upgraded, and refuses it otherwise (its callers, the Zalo outbox and the web
chat inbox, log and retry). Tables made by Rasa would be tables no migration knows about.

Revision ids are four digits, the file name's prefix (0001_initial.py), so "newer" is a string comparison and the
Rasa side reads the newest one from the folder without Alembic.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

VERSIONS = Path(__file__).parent / "migrations" / "versions"
REVISION_FILE = re.compile(r"([0-9]{4})_.+\.py")
VERSION_TABLE = "alembic_version"


class StoreNotMigrated(RuntimeError):
    """The store's schema is older than this code's, and this process cannot upgrade it."""


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    return sorted(m.group(1) for p in VERSIONS.iterdir() if (m := REVISION_FILE.fullmatch(p.name)))


def head() -> str:
    """The newest revision: the schema this code expects."""
    return revisions()[-1]


def current(engine: Engine) -> str | None:
    """The store's revision; None for a database without Alembic's version table (empty, or made by create_all)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def require_current(engine: Engine) -> None:
    """Raise StoreNotMigrated unless the store is at this code's revision or a newer one (an action server already
    upgraded by a rolling update: revisions only add what older code can ignore)."""
    found, wanted = current(engine), head()
    if found is None or found < wanted:
        raise StoreNotMigrated(
            f"store schema at {found or 'no revision'}, this code needs {wanted}: upgrade it with `make db-upgrade` "
            "(.venv-actions/bin/python -m bot.store.migrate upgrade)")


def prepare(engine: Engine) -> None:
    """Upgrade the store where Alembic is installed; elsewhere (the Rasa server) check it was upgraded."""
    if importlib.util.find_spec("alembic") is None:
        require_current(engine)
        return
    from bot.store import migrate

    migrate.upgrade(engine)
